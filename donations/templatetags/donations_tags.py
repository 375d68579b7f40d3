from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django import template
from django.conf import settings
from djmoney.money import Money

from donations.forms import DonateForm, currency_limits, currency_presets, preset_value
from donations.models import Donation
from donations.money import currency_exponent
from donations.selectors import gift_quote, match_offer, recent_supporters
from donations.services.giving import fee_fixed
from projects.selectors import project_accepts_gifts, project_funding
from projects.sharing import REFERRAL_PARAM, referral_parse

register = template.Library()


@register.inclusion_tag("donations/_donate_form.html", takes_context=True)
def donate_form(context: template.Context) -> dict[str, Any]:
    project = context["project"]
    funding = context.get("funding") or project_funding(project)
    closed = not project_accepts_gifts(project, funding)
    offer = context.get("match_offer", None)
    request = context.get("request")
    cancelled = None if request is None else cancelled_donation(request, project)
    form = context.get("donate_form") or (
        DonateForm(currency=project.currency, initial=form_initial(cancelled))
        if cancelled
        else DonateForm(currency=project.currency)
    )
    shown = form.shown_currency
    # Presets per offered currency, with their figures (selectors.gift_quote: acres and
    # "becomes" only in the project's currency, as in another one they depend on the rate
    # Stripe settles the gift at). The script shows the same quotes, with and without the
    # fee covered, and asks the server (quote.json) for any other amount.
    preset_sets = []
    quotes: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for currency in form.offered_currencies:
        rows = []
        for amount in currency_presets(currency):
            value = preset_value(amount)
            pair = [
                gift_quote(
                    project=project, amount=Money(amount, currency), cover_fee=cover, offer=offer
                )
                for cover in (False, True)
            ]
            quote = pair[0]
            becomes = quote.becomes.amount if quote.becomes is not None else None
            rows.append((value, amount, quote.acres, quote.acres_about, becomes))
            quotes.setdefault(currency, {})[value] = [q.as_json() for q in pair]
        preset_sets.append((currency, rows))
    js_currencies = {
        c: {
            "fee_fixed": str(fee_fixed(c)),
            "digits": currency_exponent(c),
            "presets": [preset_value(a) for a in currency_presets(c)],
            "min": str(currency_limits(c)[0]),
            "max": str(currency_limits(c)[1]),
        }
        for c in form.offered_currencies
    }
    # The shared link's referral code: from the re-shown form, else from the page's address.
    raw = (
        form["ref"].value()
        if form.is_bound
        else (request.GET.get(REFERRAL_PARAM) if request else "")
    )
    referral = referral_parse(raw)
    return {
        "project": project,
        "form": form,
        "error_list": error_list(form),
        "options_open": any(form.has_error(f) for f in OPTION_FIELDS)
        or any(form[f].value() for f in ("anonymous", "hide_amount", "cover_fee", "tribute_type")),
        "cancelled": cancelled,
        "match_offer": offer,  # for {% match_banner %}, shown in the form's panel
        "preview": project.status == project.Status.DRAFT,
        "ORGANISATION_NAME": settings.ORGANISATION_NAME,
        "ORGANISATION_REGISTRATION": settings.ORGANISATION_REGISTRATION,
        "referral_code": referral.code if referral else "",
        "preset_sets": preset_sets,
        "shown_currency": shown,
        "offered_currencies": form.offered_currencies,
        "offer": offer,
        "closed": closed,
        "fee_percent": settings.DONATION_FEE_PERCENT,
        "fee_fixed": fee_fixed(shown),
        "js_currencies": json.dumps(js_currencies, separators=(",", ":")),
        "js_quotes": json.dumps(quotes, separators=(",", ":")),
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
        "TEST_PAYMENTS": context.get("TEST_PAYMENTS"),
    }


# Fields folded under the form's "Options" disclosure: it opens when one of them has an error.
OPTION_FIELDS = (
    "anonymous",
    "hide_amount",
    "cover_fee",
    "tribute_type",
    "tribute_name",
    "tribute_notify_email",
    "message",
)
# Where the error summary's link for a field's error takes the donor.
ERROR_TARGETS = {
    "preset": "id_preset",
    "custom_amount": "id_custom_amount",
    "frequency": "id_frequency_0",
}


def error_list(form: DonateForm) -> list[tuple[str | None, str]]:
    """(element id or None, message) for the GOV.UK-style error summary, in form order."""
    if not form.is_bound or not form.errors:
        return []
    rows: list[tuple[str | None, str]] = [(None, str(e)) for e in form.non_field_errors()]
    rows.extend(
        (ERROR_TARGETS.get(name, f"id_{name}"), str(message))
        for name in form.fields
        for message in form.errors.get(name, [])
    )
    return rows


def cancelled_donation(request: Any, project: Any) -> Donation | None:
    """The gift whose checkout the donor just cancelled (``?cancelled=<id>`` from Stripe's
    cancel_url), if it is this project's and no money was taken for it."""
    raw = request.GET.get("cancelled", "")
    try:
        pk = UUID(raw)
    except ValueError:
        return None
    return Donation.objects.filter(
        pk=pk, project=project, status__in=[Donation.Status.PENDING, Donation.Status.EXPIRED]
    ).first()


def form_initial(d: Donation) -> dict[str, Any]:
    """The cancelled gift's choices, to refill the form."""
    amount = d.amount.amount
    currency = str(d.amount.currency)
    presets = {preset_value(a) for a in currency_presets(currency)}
    value = preset_value(amount)
    return {
        "preset": value if value in presets else "other",
        "custom_amount": "" if value in presets else value,
        "currency": currency,
        "frequency": d.frequency,
        "donor_name": d.donor_name,
        "donor_email": d.donor_email,
        "anonymous": d.anonymous,
        "hide_amount": not d.show_amount,
        "cover_fee": d.cover_fee,
        "tribute_type": d.tribute_type,
        "tribute_name": d.tribute_name,
        "tribute_notify_email": d.tribute_notify_email,
        "message": d.message,
    }


@register.inclusion_tag("donations/_supporters.html")
def supporters(project: Any) -> dict[str, Any]:
    return {"supporters": list(recent_supporters(project))}


@register.simple_tag(takes_context=True)
def load_match_offer(context: template.Context) -> str:
    """Put the project's open match (or None) in the page context, once per page."""
    context.dicts[0]["match_offer"] = match_offer(context["project"])
    return ""


@register.inclusion_tag("donations/_match_banner.html", takes_context=True)
def match_banner(context: template.Context) -> dict[str, Any]:
    offer = context.get("match_offer")
    project = context["project"]
    pools_cap = None
    if offer:
        pools_cap = offer.remaining
    return {"offer": offer, "project": project, "remaining": pools_cap}
