"""Closing the books: the months with their state, a "Close month" button for a month that
is over, "Reopen" with a reason for a closed one (each a POST form of its own, never nested
in another form), and each month's history of closes and reopens."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from finance.admin.desk_pages import desk_page, require
from finance.permissions import P_PERIODS
from finance.services.periods import PeriodRefused, period_close, period_reopen, periods_listing


class PeriodForm(forms.Form):
    action = forms.ChoiceField(choices=[("close", "Close"), ("reopen", "Reopen")])
    month = forms.DateField(input_formats=["%Y-%m", "%Y-%m-%d"])
    reason = forms.CharField(max_length=300, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "reopen" and not str(data.get("reason") or "").strip():
            self.add_error("reason", "Say why the month is reopened.")
        return data


def periods_view(model_admin: Any, request: HttpRequest) -> HttpResponse:
    require(request, P_PERIODS)
    status = 200
    errors: list[str] = []
    if request.method == "POST":
        form = PeriodForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            month: date = data["month"]
            try:
                if data["action"] == "close":
                    period_close(month=month, actor=request.user)
                    messages.success(request, f"{month:%B %Y} is closed.")
                else:
                    period_reopen(month=month, reason=data["reason"], actor=request.user)
                    messages.success(request, f"{month:%B %Y} is reopened.")
                return HttpResponseRedirect(reverse("admin:donations_financedesk_periods"))
            except PeriodRefused as exc:
                errors.append(str(exc))
        else:
            errors += [str(e) for field_errors in form.errors.values() for e in field_errors]
        status = 400
    return desk_page(
        model_admin,
        request,
        "admin/finance/periods.html",
        "Closed months",
        status=status,
        errors=errors,
        months=periods_listing(),
    )
