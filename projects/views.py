from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from decimal import Decimal

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET
from djmoney.money import Money

from campaign.pagecache import list_versions, public_page
from projects.forms import CALCULATOR_MAX, CALCULATOR_MIN, AcresCalculatorForm
from projects.models import Project
from projects.selectors import (
    acres_figure,
    project_detail_get,
    project_for_totals,
    project_funding,
    project_list_published,
    project_page_versions,
)
from projects.seo import project_list_meta, project_meta

CALCULATOR_DEFAULT_GIFT = Decimal("50")
ACRES_JSON_MAX_AGE = 24 * 60 * 60


@public_page(versions=list_versions)
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
    return {
        "calculator": form,
        "calculator_url": _acres_json_url(project),
        "calculator_answers": json.dumps(_calculator_answers(project), separators=(",", ":")),
        "gift": shown,
        "calculator_min": Money(CALCULATOR_MIN, project.currency),
        "calculator_max_money": Money(CALCULATOR_MAX, project.currency),
        "figure": None if gift is None else acres_figure(project, gift),
    }


def _acres_answer(project: Project, gift: Decimal) -> dict[str, str]:
    """acres.json's answer for a valid gift: the sentence the page shows for it."""
    context = {"project": project, "figure": acres_figure(project, gift)}
    return {"html": render_to_string("projects/_calc_result.html", context).strip()}


def _calculator_answers(project: Project) -> dict[str, str | dict[str, str]]:
    """The answers for the default gift and the donate form's presets in the project's
    currency (keyed as the form posts them: "50", "3000"), in the page, so the script shows
    those at once; any other amount it asks of acres.json."""
    amounts = {CALCULATOR_DEFAULT_GIFT, *settings.DONATION_PRESETS.get(project.currency, [])}
    return {
        f"{Decimal(a).normalize():f}": _acres_answer(project, Decimal(a))
        for a in sorted(amounts)
        if CALCULATOR_MIN <= Decimal(a) <= CALCULATOR_MAX
    }


def _acres_json_url(project: Project) -> str:
    """acres.json for this project, keyed by everything its answers depend on (the price per
    acre, the cost, the acres, the currency): a browser may keep an answer as long as it
    likes, and a page showing new figures asks at a new address."""
    price, cost = project.price_per_acre.amount, project.cost.amount
    inputs = f"{price}|{cost}|{project.acres}|{project.currency}"
    key = hashlib.sha256(inputs.encode()).hexdigest()[:12]
    return f"{reverse('projects:acres', kwargs={'slug': project.slug})}?v={key}"


@require_GET
def acres_json(request: HttpRequest, slug: str) -> JsonResponse:
    """The calculator's sentence for ?gift=, for project.js as the donor types: the HTML the
    page itself shows without JavaScript (projects/_calc_result.html, from acres_figure),
    or the form's message (400). The script computes no acres: the rule lives in
    Project.acres_for only. One query (the project)."""
    project = project_for_totals(slug=slug, user=request.user)
    form = AcresCalculatorForm(request.GET)
    if form.is_valid():
        response = JsonResponse(_acres_answer(project, form.cleaned_data["gift"]))
    else:
        response = JsonResponse({"error": form.errors["gift"][0]}, status=400)
    if project.status == Project.Status.PUBLISHED:
        # The answer changes only with the inputs the address is keyed by (_acres_json_url).
        patch_cache_control(response, public=True, max_age=ACRES_JSON_MAX_AGE)
    else:
        patch_cache_control(response, private=True, no_store=True)  # a staff preview
    return response


def project_detail_context(request: HttpRequest, project: Project) -> dict[str, object]:
    """Everything projects/detail.html needs; the donations app re-renders it with form errors."""
    funding = project_funding(project)
    return {
        "project": project,
        "funding": funding,
        "meta": project_meta(project, funding),
        **_calculator(request, project),
    }


@public_page(versions=project_page_versions)
def project_detail(request: HttpRequest, slug: str) -> HttpResponse:
    project = project_detail_get(slug=slug, user=request.user)
    response = render(request, "projects/detail.html", project_detail_context(request, project))
    if "cancelled" in request.GET:
        # The form is refilled with one donor's details: never a shared cache's copy.
        patch_cache_control(response, private=True, no_store=True)
    return response


@public_page(versions=project_page_versions)
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
