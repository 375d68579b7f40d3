"""Donor self-service: "My gifts" behind an emailed sign-in link (no password).

Every page here shows a donor's data, so every answer is ``Cache-Control: private,
no-store`` (``donor_private``). A signed-in donor is an email address in the session (set
only by a valid sign-in link, with a new session key), for DONOR_SESSION_AGE seconds.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaign.client_ip import client_ip
from donations.forms import EMAIL_MAX_LENGTH
from donations.models import Donation
from donations.providers import ProviderError, is_test_provider, provider
from donations.selectors import donation_matches
from donations.services import donor_gifts, enqueue, signin, statements
from donations.services.ratelimit import rate_limit_hit, source_key
from donations.services.receipt_numbers import receipt_number_issue
from donations.services.receipts import RECEIPT_STATUSES, receipt_context
from donations.views import donor_private, gift_language

SESSION_KEY = "donor_email"


class SignInForm(forms.Form):
    email = forms.EmailField(label=_("Your email address"), max_length=EMAIL_MAX_LENGTH)


def signed_in_email(request: HttpRequest) -> str | None:
    email = request.session.get(SESSION_KEY)
    return str(email) if email else None


def _own_gift(request: HttpRequest, donation_id: UUID) -> Donation:
    """The signed-in donor's gift, else 404 (the same for someone else's and no gift)."""
    email = signed_in_email(request)
    gift = (
        Donation.objects.select_related("project")
        .filter(pk=donation_id, donor_email=email or "", status__in=signin.VISIBLE_STATUSES)
        .first()
    )
    if email is None or gift is None:
        raise Http404(gettext("No such gift among yours. Sign in again from My gifts."))
    return gift


@donor_private
@require_GET
def my_gifts(request: HttpRequest) -> HttpResponse:
    email = signed_in_email(request)
    if email is None:
        form = SignInForm(initial={"email": request.GET.get("email", "")})
        return render(request, "donations/my_gifts/sign_in.html", {"form": form})
    gifts = list(donor_gifts.donor_gifts(email)[: donor_gifts.MY_GIFTS_LIMIT])
    rows = [(d, donor_gifts.gift_match(d)) for d in gifts]
    plans = [d for d in gifts if d.frequency == Donation.Frequency.MONTHLY and not d.parent_id]
    return render(
        request,
        "donations/my_gifts/list.html",
        {
            "email": email,
            "rows": rows,
            "plans": plans,
            "years": [
                (y, statements.financial_year_label(y)) for y in donor_gifts.donor_years(gifts)
            ],
            "limited": len(gifts) == donor_gifts.MY_GIFTS_LIMIT,
            "receipt_statuses": RECEIPT_STATUSES,
            "notice": request.session.pop("my_gifts_notice", ""),
        },
    )


@donor_private
@require_POST
def sign_in_request(request: HttpRequest) -> HttpResponse:
    """Ask for a link. The answer is the same whether or not the address has gifts; only
    the number of requests from one network is refused openly (429)."""
    form = SignInForm(request.POST)
    if not form.is_valid():
        return render(request, "donations/my_gifts/sign_in.html", {"form": form}, status=400)
    email = signin.email_normalise(form.cleaned_data["email"])
    if rate_limit_hit(
        scope="sign-in-ip",
        key=source_key(client_ip(request)),
        rate=settings.DONOR_SIGN_IN_RATE_PER_IP,
    ):
        form.add_error(
            None,
            gettext("Too many sign-in links were asked for from here. Please wait a while."),
        )
        return render(request, "donations/my_gifts/sign_in.html", {"form": form}, status=429)
    # Per address, quietly: a stranger cannot flood a donor's inbox, and the page says the
    # same as always (nothing tells whether the address is known).
    if not rate_limit_hit(
        scope="sign-in-email", key=email, rate=settings.DONOR_SIGN_IN_RATE_PER_EMAIL
    ):
        enqueue.enqueue(enqueue.SIGN_IN_LINK_SEND, email, gift_language(request))
    return render(
        request,
        "donations/my_gifts/link_sent.html",
        {"email": email, "minutes": settings.DONOR_SIGN_IN_LINK_MAX_AGE // 60},
    )


@donor_private
@require_GET
def my_gifts_enter(request: HttpRequest, token: str) -> HttpResponse:
    try:
        email = signin.sign_in_link_use(token)
    except signin.LinkInvalid:
        return render(
            request,
            "donations/my_gifts/sign_in.html",
            {"form": SignInForm(), "link_invalid": True},
            status=400,
        )
    request.session.cycle_key()  # a new session id for the signed-in donor
    request.session[SESSION_KEY] = email
    request.session.set_expiry(settings.DONOR_SESSION_AGE)
    return HttpResponseRedirect(reverse("donations:my_gifts"), status=303)


@donor_private
@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    request.session.flush()
    return HttpResponseRedirect(reverse("donations:my_gifts"), status=303)


@donor_private
@require_GET
def receipt(request: HttpRequest, donation_id: UUID) -> HttpResponse:
    """The receipt, as emailed (in the gift's language): to read, print or download."""
    gift = _own_gift(request, donation_id)
    if gift.status not in RECEIPT_STATUSES:
        raise Http404(gettext("This gift has no receipt (it was refunded)."))
    if not gift.receipt_number:  # opened before the receipt email went out: issued now
        gift.receipt_number = receipt_number_issue(donation_id=gift.pk)
    with translation.override(gift.language):
        response = render(request, "donations/email/receipt.html", receipt_context(gift))
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="receipt-{gift.pk}.html"'
    return response


@donor_private
@require_POST
def receipt_resend(request: HttpRequest, donation_id: UUID) -> HttpResponse:
    gift = _own_gift(request, donation_id)
    if gift.status not in RECEIPT_STATUSES:
        raise Http404(gettext("This gift has no receipt (it was refunded)."))
    if rate_limit_hit(
        scope="receipt-resend", key=gift.donor_email, rate=settings.DONOR_RECEIPT_RESEND_RATE
    ):
        notice = gettext("Receipts were sent many times in the last hour. Please wait a while.")
        request.session["my_gifts_notice"] = notice
        return HttpResponseRedirect(reverse("donations:my_gifts"), status=303)
    enqueue.enqueue(enqueue.RECEIPT_RESEND, str(gift.pk))
    request.session["my_gifts_notice"] = gettext("The receipt is on its way to %(email)s.") % {
        "email": gift.donor_email
    }
    return HttpResponseRedirect(reverse("donations:my_gifts"), status=303)


@donor_private
@require_GET
def statement(request: HttpRequest, year: int) -> HttpResponse:
    email = signed_in_email(request)
    if email is None:
        return redirect("donations:my_gifts")
    if not 2000 <= year <= timezone.now().year:  # noqa: PLR2004 - no gift before 2000
        raise Http404(gettext("No statement for that year."))
    # The finance desk's statement of the financial year starting in ``year``, in the
    # language of the donor's latest gift in it.
    statement = statements.statement_build(donor_email=email, year=year)
    language = statement.language if statement.lines else gift_language(request)
    if request.GET.get("format") == "csv":
        response = HttpResponse(
            donor_gifts.statement_csv(statement, language), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="giving-{year}.csv"'
        return response
    with translation.override(language):
        statement.acknowledgement = statements.acknowledgement_text()
        return render(
            request,
            "donations/statement_print.html",
            {"statement": statement, "site_url": settings.SITE_URL, "from_my_gifts": True},
        )


@donor_private
@require_POST
def monthly_manage(request: HttpRequest, donation_id: UUID) -> HttpResponse:
    """Open the payment provider's customer portal for a monthly gift's customer (change
    the card or the amount, or stop it); changes come back through the webhooks."""
    plan = _own_gift(request, donation_id)
    if plan.frequency != Donation.Frequency.MONTHLY or not plan.customer_id:
        raise Http404(gettext("This gift is not a monthly gift that can be managed here."))
    return_url = request.build_absolute_uri(reverse("donations:my_gifts"))
    try:
        url = provider().portal_session_create(
            customer_id=plan.customer_id, return_url=return_url, locale=plan.language
        )
    except ProviderError:
        request.session["my_gifts_notice"] = gettext(
            "We could not reach our payment processor. Please try again in a few minutes."
        )
        return HttpResponseRedirect(reverse("donations:my_gifts"), status=303)
    return HttpResponseRedirect(url, status=303)


@donor_private
@require_http_methods(["GET", "POST"])
def test_portal(request: HttpRequest, session_id: str) -> HttpResponse:
    """The test provider's stand-in for Stripe's customer portal (demo and development)."""
    if not is_test_provider():
        raise Http404("The test portal is disabled")
    local: Any = provider()
    try:
        session = local.portal_session_get(session_id)
    except ProviderError as exc:
        raise Http404(
            gettext("This portal link has expired. Open it again from My gifts.")
        ) from exc
    if request.method == "POST":
        subscription_id = request.POST.get("subscription", "")
        action = request.POST.get("action", "")
        if action not in {"cancel"}:
            return HttpResponse(gettext("Choose an action."), status=400)
        try:
            local.portal_subscription_cancel(session=session, subscription_id=subscription_id)
        except ProviderError as exc:
            return HttpResponse(str(exc), status=400)
        return HttpResponseRedirect(request.path + "?done=cancel", status=303)
    subscriptions = local.portal_subscriptions(session)
    plans = {
        d.subscription_id: d
        for d in Donation.objects.select_related("project").filter(
            subscription_id__in=[s["id"] for s in subscriptions], parent__isnull=True
        )
    }
    return render(
        request,
        "donations/test_portal.html",
        {
            "session": session,
            "subscriptions": [(s, plans.get(s["id"])) for s in subscriptions],
            "done": request.GET.get("done", ""),
            "matches": donation_matches,
        },
    )
