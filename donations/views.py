from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaign.client_ip import client_ip
from donations.forms import DonateForm, amount_parse
from donations.models import Donation
from donations.providers import MalformedEvent, SignatureError, provider
from donations.providers.local import LocalTestProvider, UnknownObject
from donations.selectors import (
    donation_matches,
    donation_public_status,
    gift_quote,
    match_offer,
)
from donations.services import catchup, events
from donations.services.giving import (
    CheckoutUnavailable,
    GiftRequest,
    KeyReused,
    donation_answer,
    donation_by_key,
    donation_start,
)
from donations.services.ratelimit import gift_start_limited
from donations.services.sharing import share_code_ensure
from projects.formatting import money_format
from projects.selectors import (
    project_accepts_gifts,
    project_detail_get,
    project_for_totals,
    project_funding,
)
from projects.seo import site_meta
from projects.views import project_detail_context

logger = logging.getLogger(__name__)


def donor_private(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Pages that show a donor's name, email or gift: never stored by a browser's disk cache
    or any shared cache (`Cache-Control: private, no-store`, on error pages too)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        patch_cache_control(response, private=True, no_store=True, no_cache=True, max_age=0)
        return response

    return wrapped


def gift_language(request: HttpRequest) -> str:
    """The language the donor is reading (and so giving) in, one of settings.LANGUAGES."""
    code = translation.get_language_from_path(request.path_info) or translation.get_language()
    supported = {c for c, _ in settings.LANGUAGES}
    return code if code in supported else settings.LANGUAGE_CODE


def _form_page(
    request: HttpRequest, project: object, form: DonateForm, status: int
) -> HttpResponse:
    context = project_detail_context(request, project)  # type: ignore[arg-type]
    context["donate_form"] = form
    return render(request, "projects/detail.html", context, status=status)


@donor_private
@require_http_methods(["GET", "POST"])
def donate(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_detail_get(slug=slug, user=request.user)
    if request.method == "GET":
        return redirect(project.get_absolute_url() + "#donate")
    if not project_accepts_gifts(project):
        form = DonateForm(request.POST, currency=project.currency)
        form.is_valid()
        form.add_error(None, _("This project is not accepting gifts any more. Thank you!"))
        return _form_page(request, project, form, 409)
    form = DonateForm(request.POST, currency=project.currency)
    if not form.is_valid():
        return _form_page(request, project, form, 400)
    data = form.cleaned_data
    gift = _gift_request(request, project, data)
    base_url = f"{request.scheme}://{request.get_host()}"
    try:
        # The same press of Donate posted again (nginx gave it to the other node, a
        # reload): the gift it started, not a second one, and not counted again below.
        started = donation_by_key(gift)
        if started is not None:
            return HttpResponseRedirect(donation_answer(started, base_url=base_url), status=303)
    except KeyReused:
        return _key_reused(request, project, form)
    except CheckoutUnavailable:
        return _checkout_unavailable(request, project, form)
    if gift_start_limited(
        ip=client_ip(request),
        email=data["donor_email"],
        per_ip=settings.DONATION_RATE_LIMIT_PER_IP,
        per_email=settings.DONATION_RATE_LIMIT_PER_EMAIL,
    ):
        form.add_error(
            None,
            _(
                "Too many gifts were started from here in a short time. "
                "Please wait a while and try again, or contact us."
            ),
        )
        return _form_page(request, project, form, 429)
    try:
        _donation, url = donation_start(gift=gift, base_url=base_url)
    except KeyReused:
        return _key_reused(request, project, form)
    except CheckoutUnavailable:
        return _checkout_unavailable(request, project, form)
    return HttpResponseRedirect(url, status=303)


def _gift_request(request: HttpRequest, project: Any, data: dict[str, Any]) -> GiftRequest:
    return GiftRequest(
        project=project,
        amount=data["amount"],
        frequency=data["frequency"],
        donor_name=data["donor_name"].strip(),
        donor_email=data["donor_email"],
        anonymous=data["anonymous"],
        show_amount=not data["hide_amount"],
        message=data["message"].strip(),
        tribute_type=data["tribute_type"],
        tribute_name=data["tribute_name"].strip(),
        tribute_notify_email=data["tribute_notify_email"],
        cover_fee=data["cover_fee"],
        referral=data["ref"],
        language=gift_language(request),
        idempotency_key=data["idempotency_key"],
    )


def _checkout_unavailable(request: HttpRequest, project: Any, form: DonateForm) -> HttpResponse:
    form.add_error(
        None,
        _(
            "We could not reach our payment processor, and nothing was charged. "
            "Please try again in a few minutes."
        ),
    )
    return _form_page(request, project, form, 503)


def _key_reused(request: HttpRequest, project: Any, form: DonateForm) -> HttpResponse:
    form.add_error(None, _("This form could not be submitted. Please reload the page."))
    return _form_page(request, project, form, 409)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW. Cached project pages carry no token (campaign/pagecache.py): a donor
    without JavaScript posts the donate form without one. Show the form again, as filled in,
    with this visitor's token and anything to correct, and ask for one more press. Anything
    else: Django's 403."""
    match = request.resolver_match
    if match is not None and match.view_name == "donations:donate" and request.method == "POST":
        try:
            project = project_detail_get(slug=match.kwargs["slug"], user=request.user)
        except Http404:
            pass
        else:
            # Validated as usual, so anything to fix is said now, with the one more press.
            form = DonateForm(request.POST, currency=project.currency)
            form.is_valid()
            form.add_error(
                None, "For your security, please check your gift and press Donate once more."
            )
            return _form_page(request, project, form, 403)
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason=reason)


def _donation_for_donor(donation_id: UUID) -> Donation:
    """The gift the page is about, confirmed from its Checkout Session if still pending."""
    donation = get_object_or_404(Donation.objects.select_related("project"), pk=donation_id)
    if catchup.donation_confirm_now(donation):
        donation.refresh_from_db()
    return donation


@donor_private
@require_GET
def thanks(request: HttpRequest, donation_id: UUID) -> HttpResponse:
    donation = _donation_for_donor(donation_id)
    status = donation_public_status(donation)
    # Share links for a gift that went through (or is on its way), with the gift's own code.
    sharing = status.code in {"confirmed", "processing"}
    return render(
        request,
        "donations/thanks.html",
        {
            "donation": donation,
            "status": status,
            "share_code": share_code_ensure(donation=donation) if sharing else "",
            "matches": donation_matches(donation),
            # A donor's own page: not for search results.
            "meta": site_meta(title="Thank you", path=request.path, robots="noindex"),
            "manage_url": f"{reverse('donations:my_gifts')}?"
            f"{urlencode({'email': donation.donor_email})}",
        },
    )


# Seconds a shared cache (nginx, whole-page caching) may serve the same totals: with the
# page polling every few seconds, a gift shows within about poll interval + this.
TOTALS_MAX_AGE = 2


@require_GET
def project_totals_json(request: HttpRequest, slug: str) -> JsonResponse:
    """A project's live funding figures for the page's thermometer (static/js/thermometer.js).

    Two queries: the project with its totals row, and the open pools. The thermometer
    fragment is rendered here from the same template as the page, so both always agree."""
    project = project_for_totals(slug=slug, user=request.user)
    funding = project_funding(project)
    offer = match_offer(project)
    raised = money_format(funding.raised)
    summary = ngettext(
        "%(raised)s raised of %(cost)s from %(count)s donor.",
        "%(raised)s raised of %(cost)s from %(count)s donors.",
        funding.donor_count,
    ) % {"raised": raised, "cost": money_format(funding.cost), "count": funding.donor_count}
    if offer:
        summary += " " + _("%(left)s of matching funds remain.") % {
            "left": money_format(offer.remaining)
        }
    response = JsonResponse(
        {
            "raised": str(funding.raised.amount),
            "matched": str(funding.matched.amount),
            "currency": funding.cost.currency.code,
            "donor_count": funding.donor_count,
            "percent": str(funding.percent),
            "percent_label": funding.percent_label,
            "is_funded": funding.is_funded,
            "match_remaining": money_format(offer.remaining) if offer else None,
            "summary": summary,
            "html": render_to_string("projects/_thermometer.html", {"funding": funding}),
        }
    )
    patch_cache_control(response, public=True, max_age=TOTALS_MAX_AGE)
    return response


def _quote_refused(message: str, *, field: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message, "field": field}, status=status)


@require_GET
def gift_quote_json(request: HttpRequest, slug: str) -> JsonResponse:
    """The donate form's figures for a gift (?amount=70&currency=USD&cover_fee=1): the fee
    cover, the match and the acres as the server computes them (selectors.gift_quote), for
    the page's script, which computes none itself. An amount or currency the donate form
    would refuse is a 400 with the form's own message; a closed project a 409.

    Two queries, as the totals: the project with its totals row, and the open pools."""
    project = project_for_totals(slug=slug, user=request.user)
    if not project_accepts_gifts(project):
        message = _("This project is not accepting gifts any more. Thank you!")
        return _quote_refused(message, field="project", status=409)
    field = DonateForm(currency=project.currency).fields["currency"]
    try:
        currency = field.clean(request.GET.get("currency") or project.currency)
    except ValidationError as exc:
        return _quote_refused(" ".join(exc.messages), field="currency")
    raw = request.GET.get("amount", "").strip()
    if not raw:
        return _quote_refused(_("Choose an amount or enter your own."), field="amount")
    try:
        amount = amount_parse(raw, currency)
    except ValidationError as exc:
        return _quote_refused(" ".join(exc.messages), field="amount")
    cover_fee = request.GET.get("cover_fee", "") in {"1", "true", "on"}
    quote = gift_quote(
        project=project, amount=amount, cover_fee=cover_fee, offer=match_offer(project)
    )
    response = JsonResponse(quote.as_json())
    # As fresh as the totals: the match left moves with every gift.
    patch_cache_control(response, public=True, max_age=TOTALS_MAX_AGE)
    return response


@donor_private
@require_GET
def status_json(request: HttpRequest, donation_id: UUID) -> JsonResponse:
    donation = _donation_for_donor(donation_id)
    status = donation_public_status(donation)
    return JsonResponse({"status": status.code, "label": status.label, "final": status.final})


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Verify, store, answer 200 at once. Processing happens in a task after commit."""
    try:
        _stored, created = events.webhook_receive(
            payload=request.body, signature=request.headers.get("stripe-signature")
        )
    except SignatureError as exc:
        return JsonResponse({"error": f"Invalid signature: {exc}"}, status=400)
    except MalformedEvent as exc:
        logger.warning("Refused a signed but malformed webhook: %s", exc)
        return JsonResponse({"error": f"Malformed event: {exc}"}, status=400)
    except DatabaseError:
        logger.exception("Webhook could not be stored; answering 503 so Stripe retries")
        return JsonResponse({"error": "Temporarily unavailable"}, status=503)
    return JsonResponse({"received": True, "duplicate": not created})


@donor_private
@require_http_methods(["GET", "POST"])
def test_checkout(request: HttpRequest, session_id: str) -> HttpResponse:
    """The test provider's checkout page. Exists only while PAYMENT_PROVIDER is "test"."""
    test_provider = provider()
    if not isinstance(test_provider, LocalTestProvider):
        raise Http404("The test checkout is disabled")
    try:
        session = test_provider.session_get(session_id)
    except UnknownObject as exc:
        raise Http404("No such test checkout") from exc
    donation = get_object_or_404(
        Donation.objects.select_related("project"), pk=session["metadata"].get("donation_id")
    )
    if request.method == "POST":
        outcome = request.POST.get("outcome", "")
        if outcome not in {"succeed", "fail", "cancel"}:
            return HttpResponse("Choose succeed, fail or cancel.", status=400)
        session = test_provider.checkout_complete(
            session_id=session_id, outcome=outcome, host=request.get_host()
        )
        target = session["cancel_url"] if outcome == "cancel" else session["success_url"]
        return HttpResponseRedirect(target, status=303)
    return render(
        request, "donations/test_checkout.html", {"session": session, "donation": donation}
    )
