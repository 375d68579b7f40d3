from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from donations.forms import DonateForm
from donations.selectors import match_offer, recent_supporters
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
    suggested = [
        (amount, acres, amount + offer.match_for(amount) if offer else None)
        for amount, acres in context.get("suggested") or []
    ]
    return {
        "project": project,
        "form": context.get("donate_form") or DonateForm(currency=project.currency),
        "suggested": suggested,
        "offer": offer,
        "closed": closed,
        "fee_percent": settings.DONATION_FEE_PERCENT,
        "fee_fixed": settings.DONATION_FEE_FIXED.get(project.currency, 0),
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
