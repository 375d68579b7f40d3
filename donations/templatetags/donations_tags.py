from __future__ import annotations

import json
from typing import Any

from django import template
from django.conf import settings

from donations.forms import DonateForm, currency_presets, preset_value
from donations.money import currency_exponent
from donations.selectors import match_offer, recent_supporters
from donations.services.giving import fee_fixed
from projects.selectors import project_funding

register = template.Library()


@register.inclusion_tag("donations/_donate_form.html", takes_context=True)
def donate_form(context: template.Context) -> dict[str, Any]:
    project = context["project"]
    funding = context.get("funding") or project_funding(project)
    closed = project.status != project.Status.PUBLISHED or (
        project.after_goal == project.AfterGoal.CLOSE_FORM and funding.is_funded
    )
    offer = context.get("match_offer", None)
    form = context.get("donate_form") or DonateForm(currency=project.currency)
    shown = form.shown_currency
    # Presets per offered currency. Acres and "becomes" only in the project's currency: in
    # another one they depend on the rate Stripe settles the gift at.
    preset_sets = []
    for currency in form.offered_currencies:
        rows = []
        for amount in currency_presets(currency):
            same = currency == project.currency
            acres = project.acres_for(amount) if same else None
            becomes = amount + offer.match_for(amount) if offer and same else None
            rows.append((preset_value(amount), amount, acres, becomes))
        preset_sets.append((currency, rows))
    js_currencies = {
        c: {
            "fee_fixed": str(fee_fixed(c)),
            "digits": currency_exponent(c),
            "presets": [preset_value(a) for a in currency_presets(c)],
        }
        for c in form.offered_currencies
    }
    return {
        "project": project,
        "form": form,
        "preset_sets": preset_sets,
        "shown_currency": shown,
        "offered_currencies": form.offered_currencies,
        "offer": offer,
        "closed": closed,
        "fee_percent": settings.DONATION_FEE_PERCENT,
        "fee_fixed": fee_fixed(shown),
        "js_currencies": json.dumps(js_currencies, separators=(",", ":")),
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
        "TEST_PAYMENTS": context.get("TEST_PAYMENTS"),
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
