from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from djmoney.money import Money

from projects.forms import AcresCalculatorForm
from projects.models import Project
from projects.selectors import project_detail_get, project_funding, project_list_published

CALCULATOR_DEFAULT_GIFT = Decimal("50")


def project_list(request: HttpRequest) -> HttpResponse:
    projects = list(project_list_published())
    items = [(p, project_funding(p)) for p in projects]
    return render(request, "projects/list.html", {"items": items})


def _calculator(request: HttpRequest, project: Project) -> dict[str, object]:
    form = AcresCalculatorForm(request.GET if "gift" in request.GET else None)
    gift = (
        form.cleaned_data["gift"] if form.is_bound and form.is_valid() else CALCULATOR_DEFAULT_GIFT
    )
    return {
        "calculator": form,
        "gift": gift.normalize() if gift == gift.to_integral_value() else gift,
        "gift_money": Money(gift, project.currency),
        "gift_acres": project.acres_for(gift),
    }


def project_detail_context(request: HttpRequest, project: Project) -> dict[str, object]:
    """Everything projects/detail.html needs; the donations app re-renders it with form errors."""
    return {
        "project": project,
        "funding": project_funding(project),
        **_calculator(request, project),
    }


def project_detail(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_detail_get(slug=slug, user=request.user)
    return render(request, "projects/detail.html", project_detail_context(request, project))


def project_fact_sheet(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_detail_get(slug=slug, user=request.user)
    return render(
        request,
        "projects/fact_sheet.html",
        {"project": project, "funding": project_funding(project)},
    )
