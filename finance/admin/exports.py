"""The Exports page and "export these": a small export is answered at once, a large one
queued as a background job whose page shows its progress and offers the file to the one
who asked until it expires. Every file is made by the one export runner."""

from __future__ import annotations

import io
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models import QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.urls import reverse
from django.utils import timezone

from donations.models import Donation
from donations.services import enqueue
from finance.admin.desk_pages import desk_page, require
from finance.admin.export_selection import selection_describe
from finance.models import ExportJob, FinanceAction
from finance.permissions import P_EXPORT
from finance.services.action_log import action_record
from finance.services.export_filters import ExportError, ExportFilters, filters_parse
from finance.services.export_jobs import EXPORT_RUN
from finance.services.export_runner import export_run, export_spec

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


class ExportForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[
            ("donations", "Donations (one row per gift)"),
            ("ledger", "Ledger (one row per movement)"),
            ("journal", "Accounting journal (Xero / QuickBooks)"),
        ]
    )
    format = forms.ChoiceField(
        choices=[
            ("csv", "CSV (plain UTF-8, for accounting imports)"),
            ("csv-bom", "CSV for Excel (UTF-8 with a byte-order mark)"),
            ("xlsx", "XLSX (Excel)"),
        ]
    )
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
        choices=[
            ("xero", "Xero manual journal"),
            ("quickbooks", "QuickBooks Online journal entries"),
        ],
        initial="xero",
        required=False,
        help_text="for the accounting journal",
    )


def _export_queue(
    request: HttpRequest,
    kind: str,
    fmt: str,
    filters: ExportFilters,
    queryset: QuerySet[Any] | None,
    count: int,
) -> HttpResponseBase:
    job = ExportJob.objects.create(
        kind=kind,
        format=fmt,
        filters=filters.as_dict(),
        # A description of the list's rows (ids or its query parameters), never a query.
        selection=selection_describe(request, queryset) if queryset is not None else None,
        total=count,
        requested_by_id=int(request.user.pk or 0),
        expires_at=timezone.now() + timedelta(hours=int(settings.EXPORT_FILE_HOURS)),
    )
    detail: dict[str, Any] = {"format": fmt, "filters": filters.as_dict(), "rows": count}
    if queryset is not None:
        detail["selection"] = "from the admin list"
    action_record(
        FinanceAction.Kind.EXPORT,
        request.user,
        f"Export of {count} {kind} row(s) as {fmt.upper()} queued",
        target=f"export:{job.token}",
        detail=detail,
    )
    enqueue.enqueue_on_commit(EXPORT_RUN, job.pk)
    return HttpResponseRedirect(reverse("admin:donations_financedesk_export_job", args=[job.token]))


def export_respond(
    request: HttpRequest,
    kind: str,
    fmt: str,
    filters: ExportFilters,
    queryset: QuerySet[Any] | None = None,
    system: str = "xero",
) -> HttpResponseBase:
    """Answer with the export's file (a ZIP of the Xero journal's 300-line files when it
    needs several), or queue a large one and show its progress."""
    require(request, P_EXPORT)
    try:
        if kind != "journal":
            count = export_spec(kind, filters, queryset=queryset).count()
            if count > int(settings.EXPORT_ASYNC_ROWS):
                return _export_queue(request, kind, fmt, filters, queryset, count)
        files: list[tuple[str, IO[bytes]]] = []

        @contextmanager
        def open_file(name: str, part: int) -> Iterator[IO[bytes]]:
            # A temporary file on disk, not memory: the response streams it.
            out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, closed by it
            files.append((name, out))
            yield out

        detail = {"selection": "from the admin list"} if queryset is not None else None
        export_run(
            kind=kind,
            fmt=fmt,
            filters=filters,
            open_file=open_file,
            actor=request.user,
            system=system,
            queryset=queryset,
            detail=detail,
        )
    except ExportError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("admin:donations_financedesk_exports"))
    content_type = XLSX_TYPE if fmt == "xlsx" else CSV_TYPE
    if len(files) == 1 and kind != "journal":
        name, out = files[0]
        out.seek(0)
        return FileResponse(out, as_attachment=True, filename=name, content_type=content_type)
    if len(files) == 1:  # a journal: a few lines a payout
        name, out = files[0]
        out.seek(0)
        response = HttpResponse(out.read(), content_type=content_type)
        out.close()
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for name, out in files:
            out.seek(0)
            z.writestr(name, out.read())
            out.close()
    response = HttpResponse(archive.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="xero-journal.zip"'
    return response


def exports_view(model_admin: Any, request: HttpRequest) -> HttpResponseBase:
    require(request, P_EXPORT)
    status = 200
    if request.method == "POST":
        form = ExportForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                filters = filters_parse(
                    date_from=data["date_from"].isoformat() if data["date_from"] else "",
                    date_to=data["date_to"].isoformat() if data["date_to"] else "",
                    project=data["project"],
                    status=data["status"],
                    payout=data["payout"],
                    currency=data["currency"],
                    kind=data["ledger_kind"],
                )
            except ExportError as exc:
                form.add_error(None, str(exc))
            else:
                return export_respond(
                    request, data["kind"], data["format"], filters, system=data["journal"] or "xero"
                )
        status = 400
    else:
        # A link may fill the form in (the payout page's "its journal": kind, payout).
        form = ExportForm(
            initial={k: request.GET[k] for k in ("kind", "payout", "journal") if k in request.GET}
        )
    jobs = ExportJob.objects.filter(requested_by_id=request.user.pk).order_by("-created_at")[:20]
    return desk_page(
        model_admin,
        request,
        "admin/finance/exports.html",
        "Exports",
        status=status,
        form=form,
        jobs=jobs,
        threshold=settings.EXPORT_ASYNC_ROWS,
    )


def _my_job(request: HttpRequest, token: uuid.UUID) -> ExportJob:
    require(request, P_EXPORT)
    job = ExportJob.objects.filter(token=token, requested_by_id=request.user.pk).first()
    if job is None:
        raise Http404("No such export of yours")
    return job


def export_job_view(model_admin: Any, request: HttpRequest, token: uuid.UUID) -> HttpResponse:
    job = _my_job(request, token)
    return desk_page(
        model_admin,
        request,
        "admin/finance/export_job.html",
        "Export",
        job=job,
        expired=job.expires_at <= timezone.now(),
    )


def export_download_view(
    model_admin: Any, request: HttpRequest, token: uuid.UUID
) -> HttpResponseBase:
    job = _my_job(request, token)
    if job.expires_at <= timezone.now():
        return HttpResponse(
            "This export has expired: make it again.", status=410, content_type="text/plain"
        )
    if job.status != ExportJob.Status.DONE or not job.file_name:
        return HttpResponse("This export is not ready yet.", status=409, content_type="text/plain")
    path_ = Path(settings.EXPORT_ROOT) / job.file_name
    if not path_.exists():
        return HttpResponse(
            "This export's file is gone: make it again.", status=410, content_type="text/plain"
        )
    return FileResponse(
        path_.open("rb"),  # closed by the response
        as_attachment=True,
        filename=job.file_name.split("/", 1)[-1],
    )
