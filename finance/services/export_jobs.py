"""Large exports in the background: the file is written under EXPORT_ROOT with the job's
progress on its row, then offered to the requester until it expires."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from finance.models import ExportJob
from finance.services.export_filters import ExportError, ExportFilters
from finance.services.export_runner import export_run

EXPORT_RUN = "finance.tasks.export_run"
# A job queued before exports stopped storing pickled queries (migration 0023): failed, not
# unpickled and never run (a task for it still queued finds this and returns).
PICKLED_JOB_REFUSED = (
    "Queued by an older version that stored the list's query; such jobs are no longer run."
    " Ask for this export again."
)

logger = logging.getLogger(__name__)


# Rebuilds an "export these" selection (a JSON description) into its rows; the admin's
# (finance/admin/export_selection.py), handed in by the task.
SelectionReader = Callable[..., QuerySet[Any]]


def _selection_rows(job: ExportJob, read: SelectionReader | None) -> QuerySet[Any] | None:
    if job.selection is None:
        return None
    if read is None:
        raise ExportError("This export names admin list rows: run it from its task")
    return read(kind=job.kind, selection=job.selection, user=job.requested_by)


def export_job_run(*, job_id: int, selection_read: SelectionReader | None = None) -> None:
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    if job.status == ExportJob.Status.DONE or job.error == PICKLED_JOB_REFUSED:
        return
    filters = ExportFilters.from_dict(job.filters)
    ExportJob.objects.filter(pk=job_id).update(status=ExportJob.Status.RUNNING, done=0)
    folder = Path(settings.EXPORT_ROOT) / str(job.token)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[str] = []

    @contextmanager
    def open_file(name: str, part: int) -> Iterator[IO[bytes]]:
        # Written beside its final name and renamed into place: a download never sees half
        # a file, and a failed run leaves nothing under the name.
        target = folder / name
        partial = folder / f"{name}.part"
        try:
            with partial.open("wb") as out:
                yield out
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        written.append(f"{job.token}/{name}")

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job_id).update(done=done)

    try:
        queryset = _selection_rows(job, selection_read)
        result = export_run(
            kind=job.kind,
            fmt=job.format,
            filters=filters,
            open_file=open_file,
            queryset=queryset,
            progress=progress,
        )
    except Exception as exc:
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.FAILED, error=str(exc)[:2000]
        )
        raise
    ExportJob.objects.filter(pk=job_id).update(
        status=ExportJob.Status.DONE,
        total=result.rows,
        done=result.rows,
        file_name=written[0],
        finished_at=timezone.now(),
    )


def export_files_expire() -> int:
    """Delete the files of expired exports (beat, hourly). The job rows stay."""
    removed = 0
    for job in ExportJob.objects.filter(expires_at__lte=timezone.now()).exclude(file_name=""):
        path = Path(settings.EXPORT_ROOT) / job.file_name
        if path.exists():
            path.unlink()
            removed += 1
        ExportJob.objects.filter(pk=job.pk).update(file_name="")
    return removed
