"""Large exports in the background: the file is written under EXPORT_ROOT with the job's
progress on its row, then offered to the requester until it expires."""

from __future__ import annotations

import logging
import os
import pickle  # noqa: S403 - our own query, written and read by the server only
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from donations.models import Donation
from donations.models_finance import ExportJob
from donations.services import export_specs, exports

logger = logging.getLogger(__name__)


def _queryset(job: ExportJob) -> QuerySet[Any] | None:
    if job.query is None:
        return None
    model: Any = Donation
    if job.kind == "ledger":
        from donations.models import LedgerEntry  # type: ignore[attr-defined]

        model = LedgerEntry
    qs = model.objects.all()
    qs.query = pickle.loads(bytes(job.query))  # noqa: S301 - written by the admin's action
    return qs  # type: ignore[no-any-return]


def export_job_run(*, job_id: int) -> None:
    job = ExportJob.objects.get(pk=job_id)
    if job.status == ExportJob.Status.DONE:
        return
    filters = exports.ExportFilters.from_dict(job.filters)
    spec = export_specs.export_spec(job.kind, filters, queryset=_queryset(job))
    total = spec.count()
    ExportJob.objects.filter(pk=job_id).update(status=ExportJob.Status.RUNNING, total=total, done=0)
    os.makedirs(settings.EXPORT_ROOT, exist_ok=True)
    name = f"{job.token}/{exports.file_name(spec, job.format, filters)}"
    target = os.path.join(settings.EXPORT_ROOT, name)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    partial = target + ".part"

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job_id).update(done=done)

    try:
        with open(partial, "wb") as out:
            if job.format == "xlsx":
                exports.write_xlsx(spec, out, count=total, progress=progress)
            else:
                exports.write_csv(spec, out, progress=progress)
        os.replace(partial, target)
    except Exception as exc:
        if os.path.exists(partial):
            os.unlink(partial)
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.FAILED, error=str(exc)[:2000]
        )
        raise
    ExportJob.objects.filter(pk=job_id).update(
        status=ExportJob.Status.DONE, done=total, file_name=name, finished_at=timezone.now()
    )


def export_files_expire() -> int:
    """Delete the files of expired exports (beat, hourly). The job rows stay."""
    removed = 0
    for job in ExportJob.objects.filter(expires_at__lte=timezone.now()).exclude(file_name=""):
        path = os.path.join(settings.EXPORT_ROOT, job.file_name)
        if os.path.exists(path):
            os.unlink(path)
            removed += 1
        ExportJob.objects.filter(pk=job.pk).update(file_name="")
    return removed
