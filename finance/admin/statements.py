"""Year-end statements on the desk: start a financial year's run, re-send one donor's
statement, print one, and the lists of runs and statements sent."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from donations.admin_base import NoWrites
from donations.services import statements
from finance.admin.desk_pages import desk_page, require
from finance.models import StatementRun, StatementSent
from finance.permissions import P_SEND
from finance.services.statement_runs import statement_resend, statement_run_start


@admin.register(StatementRun)
class StatementRunAdmin(NoWrites, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "created_at",
        "year",
        "status",
        "done",
        "total",
        "sent",
        "skipped",
        "requested_by",
    ]
    readonly_fields = [f.name for f in StatementRun._meta.fields]


@admin.register(StatementSent)
class StatementSentAdmin(NoWrites, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "sent_at",
        "year",
        "number",
        "donor_email",
        "sent_to",
        "resent_count",
        "last_sent_at",
    ]
    list_filter = ["year"]
    search_fields = ["=donor_email"]
    readonly_fields = [f.name for f in StatementSent._meta.fields]


class StatementRunForm(forms.Form):
    year = forms.IntegerField(
        min_value=2000, max_value=2100, help_text="The calendar year the financial year starts in."
    )


class StatementResendForm(forms.Form):
    email = forms.EmailField(label="Donor's email")
    year = forms.IntegerField(min_value=2000, max_value=2100)
    to = forms.EmailField(required=False, label="Send to (if not the donor's email)")


class StatementPreviewForm(forms.Form):
    email = forms.EmailField()
    year = forms.IntegerField(min_value=2000, max_value=2100)


def statements_view(model_admin: Any, request: HttpRequest) -> HttpResponse:
    require(request, P_SEND)
    status = 200
    this_year = statements.financial_year_of(timezone.now())
    which = request.POST.get("form")
    run_form = StatementRunForm(
        request.POST if which == "run" else None, initial={"year": this_year - 1}
    )
    resend_form = StatementResendForm(
        request.POST if which == "resend" else None, initial={"year": this_year - 1}
    )
    here = reverse("admin:donations_financedesk_statements")
    if request.method == "POST":
        if which == "run" and run_form.is_valid():
            year = run_form.cleaned_data["year"]
            statement_run_start(year=year, actor=request.user)
            label = statements.financial_year_label(year)
            messages.success(request, f"Sending the {label} statements; progress below.")
            return HttpResponseRedirect(here)
        if which == "resend" and resend_form.is_valid():
            data = resend_form.cleaned_data
            if statement_resend(
                donor_email=data["email"], year=data["year"], to=data["to"], actor=request.user
            ):
                messages.success(request, "Statement sent.")
                return HttpResponseRedirect(here)
            resend_form.add_error("email", "This donor has no gifts in that year.")
        status = 400
    return desk_page(
        model_admin,
        request,
        "admin/finance/statements.html",
        "Year-end statements",
        status=status,
        run_form=run_form,
        resend_form=resend_form,
        runs=StatementRun.objects.order_by("-created_at")[:10],
        start_month=settings.FINANCIAL_YEAR_START_MONTH,
    )


def statement_print_view(model_admin: Any, request: HttpRequest) -> HttpResponse:
    require(request, P_SEND)
    form = StatementPreviewForm(request.GET)
    if not form.is_valid():
        return HttpResponse("Give email= and year=.", status=400, content_type="text/plain")
    statement = statements.statement_build(
        donor_email=form.cleaned_data["email"], year=form.cleaned_data["year"]
    )
    sent = StatementSent.objects.filter(
        donor_email=form.cleaned_data["email"].lower(), year=form.cleaned_data["year"]
    ).first()
    statement.number = sent.number if sent is not None else ""
    return TemplateResponse(
        request,
        "donations/statement_print.html",
        {"statement": statement, "site_url": settings.SITE_URL},
    )
