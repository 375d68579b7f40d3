from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from djmoney.money import Money

from campaign.pagecache import public_page
from projects.forms import CALCULATOR_MAX, CALCULATOR_MIN, AcresCalculatorForm
from projects.models import Project
from projects.selectors import project_detail_get, project_funding, project_list_published
from projects.seo import project_list_meta, project_meta

CALCULATOR_DEFAULT_GIFT = Decimal("50")


@public_page
def project_list(request: HttpRequest) -> HttpResponse:
    projects = list(project_list_published())
    items = [(p, project_funding(p)) for p in projects]
    return render(
        request, "projects/list.html", {"items": items, "meta": project_list_meta(projects)}
    )


def _calculator(request: HttpRequest, project: Project) -> dict[str, object]:
    """The calculator's figure: the default gift's, the donor's, or none with an error."""
    form = AcresCalculatorForm(request.GET if "gift" in request.GET else None)
    if form.is_bound:
        gift: Decimal | None = form.cleaned_data["gift"] if form.is_valid() else None
        shown = request.GET.get("gift", "")
    else:
        gift = CALCULATOR_DEFAULT_GIFT
        shown = str(gift)
    context: dict[str, object] = {
        "calculator": form,
        "gift": shown,
        "calculator_min": Money(CALCULATOR_MIN, project.currency),
        "calculator_max": CALCULATOR_MAX,
        "calculator_max_money": Money(CALCULATOR_MAX, project.currency),
        "gift_acres": None,
    }
    if gift is not None:
        context.update(
            gift_money=Money(gift, project.currency),
            gift_acres=project.acres_for(gift),
            gift_whole_project=gift >= project.cost.amount,
            gift_exact=gift / project.price_per_acre.amount == project.acres_for(gift),
        )
    return context


def project_detail_context(request: HttpRequest, project: Project) -> dict[str, object]:
    """Everything projects/detail.html needs; the donations app re-renders it with form errors."""
    funding = project_funding(project)
    return {
        "project": project,
        "funding": funding,
        "meta": project_meta(project, funding),
        **_calculator(request, project),
    }


@public_page
def project_detail(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_detail_get(slug=slug, user=request.user)
    response = render(request, "projects/detail.html", project_detail_context(request, project))
    if "cancelled" in request.GET:
        # The form is refilled with one donor's details: never a shared cache's copy.
        patch_cache_control(response, private=True, no_store=True)
    return response


@public_page
def project_fact_sheet(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_detail_get(slug=slug, user=request.user)
    funding = project_funding(project)
    meta = project_meta(project, funding, path=request.path)
    return render(
        request,
        "projects/fact_sheet.html",
        {
            "project": project,
            "funding": funding,
            "meta": replace(meta, title=f"Fact sheet: {project.title}"),
        },
    )
