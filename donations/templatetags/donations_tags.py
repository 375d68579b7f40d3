from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from donations.forms import DonateForm
from donations.selectors import recent_supporters
from projects.selectors import project_funding

register = template.Library()


@register.inclusion_tag("donations/_donate_form.html", takes_context=True)
def donate_form(context: template.Context) -> dict[str, Any]:
    project = context["project"]
    funding = context.get("funding") or project_funding(project)
    closed = project.status != project.Status.PUBLISHED or (
        project.after_goal == project.AfterGoal.CLOSE_FORM and funding.is_funded
    )
    return {
        "project": project,
        "form": context.get("donate_form") or DonateForm(currency=project.currency),
        "suggested": context.get("suggested", []),
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
