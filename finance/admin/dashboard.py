"""The finance dashboard page: money in and out by month, payouts that do not add up, lines
Stripe could not tie to a gift; the last twelve whole months unless asked."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from finance.admin.desk_pages import desk_page, require
from finance.permissions import P_DASHBOARD
from finance.services import dashboard
from finance.services.export_filters import ExportFilters, local_bounds
from projects.models import Project


class DashboardForm(forms.Form):
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    project: forms.ModelChoiceField[Project] = forms.ModelChoiceField(
        queryset=Project.objects.order_by("title"), required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end is before the start.")
        return data


def dashboard_view(model_admin: Any, request: HttpRequest) -> HttpResponse:
    require(request, P_DASHBOARD)
    form = DashboardForm(request.GET or None)
    start = end = None
    project_id = None
    if form.is_bound and form.is_valid():
        f = ExportFilters(
            date_from=form.cleaned_data["date_from"], date_to=form.cleaned_data["date_to"]
        )
        start, end = local_bounds(f)
        project_id = form.cleaned_data["project"].pk if form.cleaned_data["project"] else None
    elif not form.is_bound:
        # The last twelve months by default (whole months).
        today = timezone.localdate()
        first = today.replace(day=1)
        f = ExportFilters(date_from=first.replace(year=first.year - 1), date_to=today)
        start, end = local_bounds(f)
        form = DashboardForm(initial={"date_from": f.date_from, "date_to": f.date_to})
    board = dashboard.dashboard_build(start=start, end=end, project_id=project_id)
    return desk_page(
        model_admin,
        request,
        "admin/finance/dashboard.html",
        "Finance dashboard",
        status=400 if form.is_bound and not form.is_valid() else 200,
        board=board,
        form=form,
        columns=list(dashboard.COLUMNS),
    )
