"""The finance desk's background work (thin: ids in, one service call; the retry policies
are the money model's, donations/tasks.py)."""

from __future__ import annotations

from celery import shared_task

from donations.tasks import LONG_RUN, PERIODIC
from finance.admin.export_selection import selection_queryset
from finance.services.export_jobs import export_files_expire as expire
from finance.services.export_jobs import export_job_run
from finance.services.statement_runs import statement_run_execute


@shared_task(**LONG_RUN)
def statement_run(run_id: int) -> None:
    statement_run_execute(run_id=run_id)


@shared_task(**LONG_RUN)
def export_run(job_id: int) -> None:
    export_job_run(job_id=job_id, selection_read=selection_queryset)


@shared_task(**PERIODIC)
def export_files_expire() -> int:
    return expire()
