"""The finance desk in the Django admin: refunds, receipt re-sends, exports, year-end
statements, the action log and the money models' history. Finance and superusers only:
every view checks its own permission, whatever links the pages show."""

from __future__ import annotations

import io
import os
import pickle  # noqa: S403 - our own query, written and read by the server only
import tempfile
import uuid
import zipfile
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from donations.admin import DonationAdmin, MatchingPoolAdmin, PayoutAdmin
from donations.models import Donation, MatchingPool, Payout
from donations.models_finance import (
    ExportJob,
    FinanceAction,
    FinanceDesk,
    OfflineBatch,
    OfflineGift,
    RefundRequest,
    StatementRun,
    StatementSent,
)
from donations.services import (
    dashboard,
    enqueue,
    export_specs,
    exports,
    plans,
    refunds,
    statements,
)
from donations.services import offline as offline_service
from donations.services.finance_log import action_record
from donations.services.receipts import receipt_resend
from projects.models import Project

CONTACT_FIELDS = {"donor_email", "tribute_notify_email"}
P_CONTACT = "donations.view_donor_contact"
P_EXPORT = "donations.export_finance"
P_REFUND = "donations.refund_donation"
P_SEND = "donations.send_statements"
P_DASHBOARD = "donations.view_finance_dashboard"


def require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied(f"Finance only ({perm})")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(FinanceAction)
class FinanceActionAdmin(ReadOnlyAdmin):
    """The action log: readable, never editable (the database refuses changes too)."""

    list_display = ["created_at", "actor_label", "kind", "summary", "target"]
    list_filter = ["kind"]
    search_fields = ["=target", "actor_label", "summary"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "actor", "actor_label", "kind", "summary", "target", "detail"]
    show_full_result_count = False


@admin.register(RefundRequest)
class RefundRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "donation",
        "amount",
        "reason",
        "state",
        "confirmed",
        "requested_by",
    ]
    list_filter = ["state", "reason"]
    search_fields = ["=donation__id", "=provider_refund_id"]
    list_select_related = ["donation", "donation__project", "requested_by"]
    readonly_fields = [f.name for f in RefundRequest._meta.fields] + ["confirmed"]

    @admin.display(description="Confirmed by Stripe's event", boolean=True)
    def confirmed(self, obj: RefundRequest) -> bool:
        return refunds.refund_confirmed(obj)


@admin.register(StatementRun)
class StatementRunAdmin(ReadOnlyAdmin):
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
class StatementSentAdmin(ReadOnlyAdmin):
    list_display = ["sent_at", "year", "donor_email", "sent_to", "resent_count", "last_sent_at"]
    list_filter = ["year"]
    search_fields = ["=donor_email"]
    readonly_fields = [f.name for f in StatementSent._meta.fields]


def history_table(obj: Any, fields: list[str]) -> str:
    """The money fields' history (django-pghistory rows), newest first, as a table: who
    (the signed-in user, when the change came from the admin) and what each change left."""
    rows = list(
        obj.history.select_related("pgh_context").order_by("-pgh_id")[:100]  # type: ignore[attr-defined]
    )
    if not rows:
        return "No history recorded (it is kept on PostgreSQL only)."
    head = format_html_join(
        "", "<th>{}</th>", ((f.replace("_", " "),) for f in ["when", "event", *fields, "by"])
    )
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        (
            (
                format_html_join(
                    "",
                    "<td>{}</td>",
                    (
                        (value,)
                        for value in [
                            f"{row.pgh_created_at:%Y-%m-%d %H:%M:%S}",
                            row.pgh_label,
                            *[getattr(row, f) for f in fields],
                            _context_label(row),
                        ]
                    ),
                ),
            )
            for row in rows
        ),
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


class FieldHistoryMixin:
    """A change page's read-only "History" table of the money fields (django-pghistory), for
    staff with ``history_permission``."""

    history_permission = ""
    history_shown: list[str] = []

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        if obj is not None and request.user.has_perm(self.history_permission):
            fields.append("field_history")
        return fields

    @admin.display(description="History")
    def field_history(self, obj: Any) -> str:
        return history_table(obj, self.history_shown)


def _context_label(row: Any) -> str:
    """Who made the change: a signed-in user and the page, or the system (Stripe's webhook,
    a task or a command; the webhook's path is named when it came through it)."""
    context = getattr(row, "pgh_context", None)
    if context is None:
        return "system (task or command)"
    metadata = context.metadata or {}
    user, url = metadata.get("user"), metadata.get("url", "")
    name = User.objects.filter(pk=user).values_list("username", flat=True).first() if user else None
    if name is None:
        return f"system via {url}" if url else "system (task or command)"
    return f"{name} via {url}"


DONATION_HISTORY_SHOWN = [
    "status",
    "charged",
    "settled",
    "stripe_fee",
    "net",
    "refunded",
    "counted",
    "needs_review",
]
PAYOUT_HISTORY_SHOWN = ["status", "amount", "arrival_date", "lines_status", "difference"]
POOL_HISTORY_SHOWN = ["cap", "ratio", "starts_at", "ends_at", "active", "allocated"]


class RefundRequestInline(admin.TabularInline):
    model = RefundRequest
    extra = 0
    can_delete = False
    fields = [
        "created_at",
        "amount",
        "reason",
        "note",
        "state",
        "provider_refund_id",
        "error",
        "requested_by",
    ]
    readonly_fields = fields  # type: ignore[assignment]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RefundForm(forms.Form):
    key = forms.UUIDField(widget=forms.HiddenInput)
    amount = forms.CharField(max_length=20)
    reason = forms.ChoiceField(choices=RefundRequest.Reason.choices)
    note = forms.CharField(max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=300, required=False, help_text="e.g. the donor asked by phone"
    )


class ResendForm(forms.Form):
    to = forms.EmailField(
        required=False, help_text="Leave empty to send it to the donor's email on the gift."
    )


admin.site.unregister(Donation)


@admin.register(Donation)
class FinanceDonationAdmin(DonationAdmin):
    """The donations list and page with the desk's tools. Donor contact details only for
    those allowed to see them."""

    change_form_template = "admin/donations/donation/finance_change_form.html"
    actions = ["export_csv", "export_xlsx"]

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        inlines = list(super().get_inlines(request, obj))
        if request.user.has_perm(P_REFUND) or request.user.has_perm("donations.view_refundrequest"):
            inlines.append(RefundRequestInline)
        return inlines

    def get_list_display(self, request: HttpRequest) -> Any:
        fields = list(super().get_list_display(request))
        if request.user.has_perm(P_CONTACT) and "donor_email" not in fields:
            fields.insert(fields.index("donor_name") + 1, "donor_email")
        return fields

    def get_search_fields(self, request: HttpRequest) -> Any:
        fields = list(super().get_search_fields(request))
        if not request.user.has_perm(P_CONTACT):
            fields = [f for f in fields if f.lstrip("=^@") not in CONTACT_FIELDS]
        return fields

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if not request.user.has_perm(P_CONTACT):
            fields = [f for f in fields if f not in CONTACT_FIELDS]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.has_perm(P_CONTACT):
            fields = [f for f in fields if f not in CONTACT_FIELDS]
        if obj is not None and request.user.has_perm("donations.view_donationhistory"):
            fields.append("money_history")
        return fields

    @admin.display(description="History of the money fields")
    def money_history(self, obj: Donation) -> str:
        return history_table(obj, DONATION_HISTORY_SHOWN)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if not request.user.has_perm(P_EXPORT):
            actions.pop("export_csv", None)
            actions.pop("export_xlsx", None)
        return actions

    def save_model(self, request: HttpRequest, obj: Donation, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "needs_review" in form.changed_data:
            action_record(
                FinanceAction.Kind.NEEDS_REVIEW,
                request.user,
                f"Gift {obj.pk} {'flagged' if obj.needs_review else 'cleared'} for review",
                target=f"donation:{obj.pk}",
                detail={"needs_review": obj.needs_review},
            )

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("<uuid:pk>/refund/", wrap(self.refund_view), name="donations_donation_refund"),
            path(
                "<uuid:pk>/cancel-monthly/",
                wrap(self.cancel_monthly_view),
                name="donations_donation_cancel_monthly",
            ),
            path(
                "<uuid:pk>/resend-receipt/",
                wrap(self.resend_view),
                name="donations_donation_resend",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        extra["can_refund"] = request.user.has_perm(P_REFUND)
        extra["can_resend"] = request.user.has_perm(P_SEND)
        d = Donation.objects.filter(pk=object_id).first()
        extra["can_cancel_monthly"] = bool(
            request.user.has_perm(P_REFUND)
            and d is not None
            and d.frequency == Donation.Frequency.MONTHLY
            and d.parent_id is None
            and d.subscription_id
            and d.subscription_status not in plans.ENDED
        )
        return super().change_view(request, object_id, form_url, extra)

    # --- refunds ------------------------------------------------------------------------
    def refund_view(self, request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
        require(request, P_REFUND)
        d = get_object_or_404(Donation.objects.select_related("project"), pk=pk)
        left = refunds.refundable(d)
        status = 200
        if request.method == "POST":
            form = RefundForm(request.POST)
            if form.is_valid():
                try:
                    amount = refunds.parse_amount(form.cleaned_data["amount"], str(left.currency))
                    rr = refunds.refund_request(
                        donation_id=d.pk,
                        amount=amount,
                        reason=form.cleaned_data["reason"],
                        note=form.cleaned_data["note"],
                        actor=request.user,
                        idempotency_key=form.cleaned_data["key"],
                    )
                except refunds.RefundRefused as exc:
                    form.add_error(None, str(exc))
                    status = 400
                else:
                    pending = not refunds.refund_confirmed(rr)
                    messages.success(
                        request,
                        f"Refund of {rr.amount} {'sent: pending until Stripe confirms it' if pending else 'confirmed by Stripe'}.",
                    )
                    return HttpResponseRedirect(
                        reverse("admin:donations_donation_change", args=[d.pk])
                    )
            else:
                status = 400
        else:
            form = RefundForm(
                initial={
                    "key": uuid.uuid4(),
                    "amount": left.amount,
                    "reason": "requested_by_customer",
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Refund gift {d.pk}",
            "donation": d,
            "refundable": left,
            "form": form,
            "opts": self.opts,
        }
        return TemplateResponse(
            request, "admin/donations/finance/refund.html", context, status=status
        )

    # --- monthly gifts --------------------------------------------------------------------
    def cancel_monthly_view(self, request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
        require(request, P_REFUND)
        d = get_object_or_404(Donation.objects.select_related("project"), pk=pk)
        status = 200
        form = CancelForm(request.POST) if request.method == "POST" else CancelForm()
        if request.method == "POST":
            if form.is_valid():
                try:
                    plan_status = plans.monthly_cancel(
                        donation_id=d.pk, actor=request.user, reason=form.cleaned_data["reason"]
                    )
                except plans.PlanRefused as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(request, f"Monthly gift cancelled (Stripe: {plan_status}).")
                    return HttpResponseRedirect(
                        reverse("admin:donations_donation_change", args=[d.pk])
                    )
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "title": f"Cancel the monthly gift {d.pk}",
            "donation": d,
            "form": form,
            "opts": self.opts,
        }
        return TemplateResponse(
            request, "admin/donations/finance/cancel_monthly.html", context, status=status
        )

    # --- receipts -----------------------------------------------------------------------
    def resend_view(self, request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
        require(request, P_SEND)
        d = get_object_or_404(Donation.objects.select_related("project"), pk=pk)
        status = 200
        if request.method == "POST":
            form = ResendForm(request.POST)
            if form.is_valid():
                try:
                    address = receipt_resend(donation_id=d.pk, to=form.cleaned_data["to"])
                except ValueError as exc:
                    form.add_error(None, str(exc))
                    status = 400
                else:
                    action_record(
                        FinanceAction.Kind.RECEIPT_RESEND,
                        request.user,
                        f"Receipt for gift {d.pk} re-sent"
                        + (" (corrected after a refund)" if d.refunded.amount > 0 else ""),
                        target=f"donation:{d.pk}",
                        detail={"to": address, "corrected_email": address != d.donor_email},
                    )
                    messages.success(request, f"Receipt sent to {address}.")
                    return HttpResponseRedirect(
                        reverse("admin:donations_donation_change", args=[d.pk])
                    )
            else:
                status = 400
        else:
            form = ResendForm()
        context = {
            **self.admin_site.each_context(request),
            "title": f"Re-send the receipt of gift {d.pk}",
            "donation": d,
            "form": form,
            "opts": self.opts,
        }
        return TemplateResponse(
            request, "admin/donations/finance/resend.html", context, status=status
        )

    # --- "export these" -----------------------------------------------------------------
    @admin.action(description="Export these to CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Donation]) -> HttpResponseBase:
        return export_respond(request, "donations", "csv", exports.ExportFilters(), queryset)

    @admin.action(description="Export these to XLSX")
    def export_xlsx(self, request: HttpRequest, queryset: QuerySet[Donation]) -> HttpResponseBase:
        return export_respond(request, "donations", "xlsx", exports.ExportFilters(), queryset)


admin.site.unregister(MatchingPool)


@admin.register(MatchingPool)
class FinanceMatchingPoolAdmin(FieldHistoryMixin, MatchingPoolAdmin):
    history_permission = "donations.view_matchingpoolhistory"
    history_shown = POOL_HISTORY_SHOWN

    def save_model(self, request: HttpRequest, obj: MatchingPool, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        action_record(
            FinanceAction.Kind.POOL_CHANGE,
            request.user,
            f"Matching pool {obj.sponsor_name} {'changed' if change else 'created'}",
            target=f"pool:{obj.pk}",
            detail={
                "changed": list(form.changed_data),
                "cap": str(obj.cap),
                "ratio": str(obj.ratio),
                "active": obj.active,
            },
        )


admin.site.unregister(Payout)


@admin.register(Payout)
class FinancePayoutAdmin(FieldHistoryMixin, PayoutAdmin):
    history_permission = "donations.view_payouthistory"
    history_shown = PAYOUT_HISTORY_SHOWN


# --- exports ----------------------------------------------------------------------------


def journal_respond(
    request: HttpRequest, fmt: str, filters: exports.ExportFilters, system: str
) -> HttpResponseBase:
    """The journal (a few lines per payout): one file, or a ZIP of Xero's 300-line files."""
    try:
        first = export_specs.export_spec("journal", filters, system=system)
        specs = [first] + [
            export_specs.export_spec("journal", filters, system=system, part=n)
            for n in range(1, first.parts)
        ]
        files = []
        for spec in specs:
            out = io.BytesIO()
            if fmt == "xlsx":
                exports.write_xlsx(spec, out)
            else:
                exports.write_csv(spec, out)
            files.append((exports.file_name(spec, fmt, filters), out.getvalue()))
    except exports.ExportError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("admin:donations_financedesk_exports"))
    lines = sum(spec.count() for spec in specs)
    action_record(
        FinanceAction.Kind.EXPORT,
        request.user,
        f"Exported the {system} journal: {lines} line(s) in {len(files)} file(s)",
        target="export:journal",
        detail={"format": fmt, "system": system, "filters": filters.as_dict(), "rows": lines},
    )
    if len(files) == 1:
        name, body = files[0]
        kind = "text/csv; charset=utf-8" if fmt == "csv" else XLSX_TYPE
        response = HttpResponse(body, content_type=kind)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in files:
            z.writestr(name, body)
    response = HttpResponse(archive.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="xero-journal.zip"'
    return response


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_respond(
    request: HttpRequest,
    kind: str,
    fmt: str,
    filters: exports.ExportFilters,
    queryset: QuerySet[Any] | None = None,
    system: str = "xero",
) -> HttpResponseBase:
    """Stream a small export now; queue a large one and show its progress."""
    require(request, P_EXPORT)
    if kind == "journal":
        return journal_respond(request, fmt, filters, system)
    try:
        spec = export_specs.export_spec(kind, filters, queryset=queryset)
        count = spec.count()
        if fmt == "xlsx":
            exports.xlsx_refuse_if_too_big(count)
    except exports.ExportError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("admin:donations_financedesk_exports"))
    detail = {"format": fmt, "filters": filters.as_dict(), "rows": count}
    if queryset is not None:
        detail["selection"] = "from the admin list"
    if count > int(settings.EXPORT_ASYNC_ROWS):
        job = ExportJob.objects.create(
            kind=kind,
            format=fmt,
            filters=filters.as_dict(),
            query=pickle.dumps(queryset.query) if queryset is not None else None,
            total=count,
            requested_by_id=int(request.user.pk or 0),
            expires_at=timezone.now() + timedelta(hours=int(settings.EXPORT_FILE_HOURS)),
        )
        action_record(
            FinanceAction.Kind.EXPORT,
            request.user,
            f"Export of {count} {kind} row(s) as {fmt.upper()} queued",
            target=f"export:{job.token}",
            detail=detail,
        )
        enqueue.enqueue_on_commit(enqueue.EXPORT_RUN, job.pk)
        return HttpResponseRedirect(
            reverse("admin:donations_financedesk_export_job", args=[job.token])
        )
    action_record(
        FinanceAction.Kind.EXPORT,
        request.user,
        f"Exported {count} {kind} row(s) as {fmt.upper()}",
        target=f"export:{kind}",
        detail=detail,
    )
    name = exports.file_name(spec, fmt, filters)
    if fmt == "csv":
        response = StreamingHttpResponse(
            exports.csv_chunks(spec), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    tmp = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, closed by it
    exports.write_xlsx(spec, tmp, count=count)
    tmp.seek(0)
    return FileResponse(
        tmp,
        as_attachment=True,
        filename=name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


class ExportForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[
            ("donations", "Donations (one row per gift)"),
            ("ledger", "Ledger (one row per movement)"),
            ("journal", "Accounting journal (Xero / QuickBooks)"),
        ]
    )
    format = forms.ChoiceField(choices=[("csv", "CSV"), ("xlsx", "XLSX (Excel)")])
    date_from = forms.DateField(
        required=False, label="Paid from", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="Paid to", widget=forms.DateInput(attrs={"type": "date"})
    )
    project = forms.CharField(required=False, help_text="slug or id")
    status = forms.MultipleChoiceField(required=False, choices=Donation.Status.choices)
    payout = forms.CharField(required=False, help_text="Stripe payout id, po_…")
    currency = forms.CharField(required=False, max_length=3)
    ledger_kind = forms.CharField(required=False, label="Ledger kinds", help_text="comma-separated")
    journal = forms.ChoiceField(
        choices=[("xero", "Xero manual journal"), ("quickbooks", "QuickBooks bank file")],
        initial="xero",
        required=False,
        help_text="for the accounting journal",
    )


@admin.register(FinanceDesk)
class FinanceDeskAdmin(admin.ModelAdmin):
    """No table: the desk's pages (exports, statements, dashboard) hang off its URLs."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _desk_user(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _desk_user(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("", wrap(self.desk_view), name="donations_financedesk_changelist"),
            path("exports/", wrap(self.exports_view), name="donations_financedesk_exports"),
            path(
                "exports/<uuid:token>/",
                wrap(self.export_job_view),
                name="donations_financedesk_export_job",
            ),
            path(
                "exports/<uuid:token>/download/",
                wrap(self.export_download_view),
                name="donations_financedesk_export_download",
            ),
            path(
                "statements/", wrap(self.statements_view), name="donations_financedesk_statements"
            ),
            path("dashboard/", wrap(self.dashboard_view), name="donations_financedesk_dashboard"),
            path(
                "statements/print/",
                wrap(self.statement_print_view),
                name="donations_financedesk_statement_print",
            ),
        ]

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "title": title, "opts": self.opts, **extra}

    def desk_view(self, request: HttpRequest) -> HttpResponse:
        if not _desk_user(request):
            raise PermissionDenied
        return TemplateResponse(
            request,
            "admin/donations/finance/desk.html",
            self._context(
                request,
                "Finance desk",
                can_export=request.user.has_perm(P_EXPORT),
                can_send=request.user.has_perm(P_SEND),
                can_dashboard=request.user.has_perm(P_DASHBOARD),
            ),
        )

    def exports_view(self, request: HttpRequest) -> HttpResponseBase:
        require(request, P_EXPORT)
        status = 200
        if request.method == "POST":
            form = ExportForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    filters = exports.filters_parse(
                        date_from=data["date_from"].isoformat() if data["date_from"] else "",
                        date_to=data["date_to"].isoformat() if data["date_to"] else "",
                        project=data["project"],
                        status=data["status"],
                        payout=data["payout"],
                        currency=data["currency"],
                        kind=data["ledger_kind"],
                    )
                except exports.ExportError as exc:
                    form.add_error(None, str(exc))
                    status = 400
                else:
                    return export_respond(
                        request,
                        data["kind"],
                        data["format"],
                        filters,
                        system=data["journal"] or "xero",
                    )
            else:
                status = 400
        else:
            form = ExportForm()
        jobs = ExportJob.objects.filter(requested_by_id=request.user.pk).order_by("-created_at")[
            :20
        ]
        return TemplateResponse(
            request,
            "admin/donations/finance/exports.html",
            self._context(
                request, "Exports", form=form, jobs=jobs, threshold=settings.EXPORT_ASYNC_ROWS
            ),
            status=status,
        )

    def _my_job(self, request: HttpRequest, token: uuid.UUID) -> ExportJob:
        require(request, P_EXPORT)
        job = ExportJob.objects.filter(token=token, requested_by_id=request.user.pk).first()
        if job is None:
            raise Http404("No such export of yours")
        return job

    def export_job_view(self, request: HttpRequest, token: uuid.UUID) -> HttpResponse:
        job = self._my_job(request, token)
        return TemplateResponse(
            request,
            "admin/donations/finance/export_job.html",
            self._context(request, "Export", job=job, expired=job.expires_at <= timezone.now()),
        )

    def export_download_view(self, request: HttpRequest, token: uuid.UUID) -> HttpResponseBase:
        job = self._my_job(request, token)
        if job.expires_at <= timezone.now():
            return HttpResponse(
                "This export has expired: make it again.", status=410, content_type="text/plain"
            )
        if job.status != ExportJob.Status.DONE or not job.file_name:
            return HttpResponse(
                "This export is not ready yet.", status=409, content_type="text/plain"
            )
        path_ = os.path.join(settings.EXPORT_ROOT, job.file_name)
        if not os.path.exists(path_):
            return HttpResponse(
                "This export's file is gone: make it again.", status=410, content_type="text/plain"
            )
        return FileResponse(
            open(path_, "rb"), as_attachment=True, filename=job.file_name.split("/", 1)[-1]
        )  # noqa: SIM115

    # --- statements -----------------------------------------------------------------------
    def statements_view(self, request: HttpRequest) -> HttpResponse:
        require(request, P_SEND)
        status = 200
        this_year = statements.financial_year_of(timezone.now())
        run_form = StatementRunForm(
            request.POST if request.POST.get("form") == "run" else None,
            initial={"year": this_year - 1},
        )
        resend_form = StatementResendForm(
            request.POST if request.POST.get("form") == "resend" else None,
            initial={"year": this_year - 1},
        )
        if request.method == "POST":
            if request.POST.get("form") == "run" and run_form.is_valid():
                year = run_form.cleaned_data["year"]
                run = StatementRun.objects.create(year=year, requested_by_id=request.user.pk)
                action_record(
                    FinanceAction.Kind.STATEMENT_RUN,
                    request.user,
                    f"Statements for {statements.financial_year_label(year)} started",
                    target=f"statement_run:{run.pk}",
                    detail={"year": year},
                )
                enqueue.enqueue_on_commit(enqueue.STATEMENT_RUN, run.pk)
                messages.success(
                    request,
                    f"Sending the {statements.financial_year_label(year)} statements; progress below.",
                )
                return HttpResponseRedirect(reverse("admin:donations_financedesk_statements"))
            if request.POST.get("form") == "resend" and resend_form.is_valid():
                data = resend_form.cleaned_data
                if statements.statement_send(
                    donor_email=data["email"], year=data["year"], to=data["to"], resend=True
                ):
                    action_record(
                        FinanceAction.Kind.STATEMENT_RESEND,
                        request.user,
                        f"Statement {statements.financial_year_label(data['year'])} re-sent",
                        target=f"donor:{data['email'].lower()}",
                        detail={"year": data["year"], "to": data["to"] or data["email"]},
                    )
                    messages.success(request, "Statement sent.")
                    return HttpResponseRedirect(reverse("admin:donations_financedesk_statements"))
                resend_form.add_error("email", "This donor has no gifts in that year.")
            status = 400
        runs = StatementRun.objects.order_by("-created_at")[:10]
        return TemplateResponse(
            request,
            "admin/donations/finance/statements.html",
            self._context(
                request,
                "Year-end statements",
                run_form=run_form,
                resend_form=resend_form,
                runs=runs,
                start_month=settings.FINANCIAL_YEAR_START_MONTH,
            ),
            status=status,
        )

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        require(request, P_DASHBOARD)
        form = DashboardForm(request.GET or None)
        start = end = None
        project_id = None
        if form.is_bound and form.is_valid():
            f = exports.ExportFilters(
                date_from=form.cleaned_data["date_from"], date_to=form.cleaned_data["date_to"]
            )
            start, end = exports.local_bounds(f)
            project_id = form.cleaned_data["project"].pk if form.cleaned_data["project"] else None
        elif not form.is_bound:
            # The last twelve months by default (whole months).
            today = timezone.localdate()
            first = today.replace(day=1)
            f = exports.ExportFilters(date_from=first.replace(year=first.year - 1), date_to=today)
            start, end = exports.local_bounds(f)
            form = DashboardForm(initial={"date_from": f.date_from, "date_to": f.date_to})
        board = dashboard.dashboard_build(start=start, end=end, project_id=project_id)
        status = 400 if form.is_bound and not form.is_valid() else 200
        return TemplateResponse(
            request,
            "admin/donations/finance/dashboard.html",
            self._context(
                request,
                "Finance dashboard",
                board=board,
                form=form,
                columns=list(dashboard.COLUMNS),
            ),
            status=status,
        )

    def statement_print_view(self, request: HttpRequest) -> HttpResponse:
        require(request, P_SEND)
        form = StatementPreviewForm(request.GET)
        if not form.is_valid():
            return HttpResponse("Give email= and year=.", status=400, content_type="text/plain")
        statement = statements.statement_build(
            donor_email=form.cleaned_data["email"], year=form.cleaned_data["year"]
        )
        return TemplateResponse(
            request,
            "donations/statement_print.html",
            {"statement": statement, "site_url": settings.SITE_URL},
        )


def _desk_user(request: HttpRequest) -> bool:
    user = request.user
    return bool(
        user.is_active
        and user.is_staff
        and any(user.has_perm(p) for p in (P_EXPORT, P_SEND, P_REFUND, P_DASHBOARD))
    )


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


# --- offline gifts ----------------------------------------------------------------------

P_OFFLINE = "donations.record_offline_gift"


class OfflineGiftForm(forms.Form):
    project: forms.ModelChoiceField[Project] = forms.ModelChoiceField(
        queryset=Project.objects.order_by("title")
    )
    amount = forms.DecimalField(max_digits=14, decimal_places=3, min_value=Decimal("0.001"))
    currency = forms.ChoiceField(choices=[(c, c) for c in settings.CURRENCIES])
    donor_name = forms.CharField(max_length=120)
    donor_email = forms.EmailField(required=False, help_text="A receipt goes here when given.")
    method = forms.ChoiceField(choices=OfflineGift.Method.choices)
    reference = forms.CharField(
        max_length=120, required=False, help_text="cheque number, bank reference"
    )
    received_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    batch = forms.ModelChoiceField(
        queryset=OfflineBatch.objects.filter(closed_at__isnull=True), required=False
    )
    note = forms.CharField(max_length=300, required=False)


class VoidForm(forms.Form):
    reason = forms.CharField(max_length=300)


class OfflineGiftInline(admin.TabularInline):
    model = OfflineGift
    extra = 0
    can_delete = False
    fields = ["donation", "method", "reference", "received_on", "voided_at"]
    readonly_fields = fields  # type: ignore[assignment]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OfflinePermission:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(P_OFFLINE))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm(P_OFFLINE))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OfflineGift)
class OfflineGiftAdmin(OfflinePermission, admin.ModelAdmin):
    list_display = [
        "received_on",
        "donation",
        "method",
        "reference",
        "batch",
        "voided_at",
        "recorded_by",
    ]
    list_filter = ["method", "batch"]
    search_fields = ["=reference", "=donation__id", "donation__donor_name"]
    list_select_related = ["donation", "donation__project", "batch", "recorded_by"]
    readonly_fields = [f.name for f in OfflineGift._meta.fields]
    change_form_template = "admin/donations/finance/offline_change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(P_OFFLINE))

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/void/", wrap(self.void_view), name="donations_offlinegift_void"),
            *super().get_urls(),
        ]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        require(request, P_OFFLINE)
        status = 200
        if request.method == "POST":
            form = OfflineGiftForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    offline = offline_service.offline_gift_record(
                        gift=offline_service.OfflineGiftInput(
                            project=data["project"],
                            amount=data["amount"],
                            currency=data["currency"],
                            donor_name=data["donor_name"],
                            donor_email=data["donor_email"] or "",
                            method=data["method"],
                            reference=data["reference"],
                            received_on=data["received_on"],
                            note=data["note"],
                            batch_id=data["batch"].pk if data["batch"] else None,
                        ),
                        actor=request.user,
                    )
                except offline_service.OfflineRefused as exc:
                    form.add_error(None, str(exc))
                    status = 400
                else:
                    messages.success(request, f"Offline gift recorded: {offline.donation.amount}.")
                    if "_addanother" in request.POST:
                        return HttpResponseRedirect(request.path)
                    return HttpResponseRedirect(reverse("admin:donations_offlinegift_changelist"))
            else:
                status = 400
        else:
            form = OfflineGiftForm(
                initial={"received_on": timezone.localdate(), "batch": request.GET.get("batch")}
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Record an offline gift",
            "form": form,
            "opts": self.opts,
        }
        return TemplateResponse(
            request, "admin/donations/finance/offline_add.html", context, status=status
        )

    def void_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        require(request, P_OFFLINE)
        offline = get_object_or_404(OfflineGift.objects.select_related("donation"), pk=pk)
        status = 200
        form = VoidForm(request.POST) if request.method == "POST" else VoidForm()
        if request.method == "POST":
            if form.is_valid():
                try:
                    offline_service.offline_gift_void(
                        offline_id=pk, reason=form.cleaned_data["reason"], actor=request.user
                    )
                except offline_service.OfflineRefused as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(
                        request, "The gift is voided: a reversing entry is in the ledger."
                    )
                    return HttpResponseRedirect(
                        reverse("admin:donations_offlinegift_change", args=[pk])
                    )
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "title": f"Void {offline}",
            "form": form,
            "offline": offline,
            "opts": self.opts,
        }
        return TemplateResponse(
            request, "admin/donations/finance/offline_void.html", context, status=status
        )


class OfflineBatchForm(forms.ModelForm):
    class Meta:
        model = OfflineBatch
        fields = ["name", "expected_count", "expected_total", "note"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("expected_count") is not None and data["expected_count"] <= 0:
            self.add_error("expected_count", "A batch expects at least one gift.")
        total = data.get("expected_total")
        if total is not None and total.amount <= 0:
            self.add_error("expected_total", "The expected total must be more than zero.")
        return data


@admin.register(OfflineBatch)
class OfflineBatchAdmin(OfflinePermission, admin.ModelAdmin):
    form = OfflineBatchForm
    list_display = [
        "created_at",
        "name",
        "expected_count",
        "expected_total",
        "gifts_so_far",
        "closed_at",
    ]
    inlines = [OfflineGiftInline]
    change_form_template = "admin/donations/finance/batch_change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(P_OFFLINE))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return [
                "name",
                "expected_count",
                "expected_total",
                "note",
                "created_by",
                "created_at",
                "closed_at",
                "closed_by",
            ]
        return []

    @admin.display(description="Gifts so far (count, total)")
    def gifts_so_far(self, obj: OfflineBatch) -> str:
        count, total = offline_service.batch_figures(obj)
        return f"{count}, {total} {obj.expected_total.currency}"

    def save_model(self, request: HttpRequest, obj: OfflineBatch, form: Any, change: bool) -> None:
        if not change:
            obj.created_by_id = request.user.pk
        super().save_model(request, obj, form, change)

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/close/", wrap(self.close_view), name="donations_offlinebatch_close"),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        batch = OfflineBatch.objects.filter(pk=object_id).first()
        extra = dict(extra_context or {})
        if batch is not None:
            extra["batch_count"], extra["batch_total"] = offline_service.batch_figures(batch)
        return super().change_view(request, object_id, form_url, extra)

    def close_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        require(request, P_OFFLINE)
        if request.method != "POST":
            return HttpResponse("Close a batch with POST.", status=405, content_type="text/plain")
        try:
            batch = offline_service.batch_close(batch_id=pk, actor=request.user)
        except offline_service.OfflineRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Batch {batch.name} closed.")
        return HttpResponseRedirect(reverse("admin:donations_offlinebatch_change", args=[pk]))
