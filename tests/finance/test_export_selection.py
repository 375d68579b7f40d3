""" "Export these" in the background stores a JSON description of the list's rows (ids, or
the changelist's own query parameters), never a pickled query: the worker rebuilds the rows
through the same admin list, a job row can name data but never run code, and jobs queued
with a pickle before the change are failed by the migration, not unpickled."""

from __future__ import annotations

import ast
import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from finance import tasks
from finance.models import ExportJob
from finance.services.export_jobs import PICKLED_JOB_REFUSED

ROOT = Path(django_settings.BASE_DIR)
CODE_LOADERS = {"pickle", "cPickle", "dill", "marshal", "shelve", "jsonpickle"}


def _rows(client: Client, job: ExportJob) -> list[dict[str, str]]:
    download = client.get(f"/admin/donations/financedesk/exports/{job.token}/download/")
    assert download.status_code == 200
    body = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    return list(csv.DictReader(io.StringIO(body.decode())))


def test_no_first_party_module_imports_a_code_loader() -> None:
    """Before: finance/services/export_jobs.py unpickled the job's query."""
    found = []
    for package in ("campaign", "donations", "finance", "projects"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name.split(".")[0] for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module.split(".")[0]]
                found += [f"{path.relative_to(ROOT)}: {n}" for n in names if n in CODE_LOADERS]
    assert found == []


def test_export_all_of_a_filtered_list_stores_its_parameters_and_exports_its_rows(
    books: dict[str, Any],
    finance_client: Client,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.EXPORT_ASYNC_ROWS = 0
    eur, usd = books["eur"], books["usd"]
    eur.refresh_from_db()
    usd.refresh_from_db()
    assert (eur.status, usd.status) == ("succeeded", "partially_refunded")
    with django_capture_on_commit_callbacks(execute=True):
        response = finance_client.post(
            "/admin/donations/donation/?status__exact=succeeded",
            {
                "action": "export_csv",
                "select_across": "1",
                "index": "0",
                "_selected_action": [str(eur.pk)],
            },
        )
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert job.selection == {"changelist": {"status__exact": ["succeeded"]}}
    assert job.status == "done"
    assert [r["id"] for r in _rows(finance_client, job)] == [str(eur.pk)]

    # The worker reads the description, through the list's own filters: another one
    # stored on a job gives that list's rows.
    other = ExportJob.objects.create(
        kind="donations",
        format="csv",
        selection={"changelist": {"status__exact": ["partially_refunded"]}},
        requested_by=job.requested_by,
        expires_at=job.expires_at,
    )
    tasks.export_run(other.pk)
    other.refresh_from_db()
    assert other.status == "done", other.error
    assert [r["id"] for r in _rows(finance_client, other)] == [str(usd.pk)]


def test_ticked_rows_are_stored_by_id(
    books: dict[str, Any],
    finance_client: Client,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.EXPORT_ASYNC_ROWS = 0
    usd = books["usd"]
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(
            "/admin/donations/donation/",
            {"action": "export_csv", "index": "0", "_selected_action": [str(usd.pk)]},
        )
    job = ExportJob.objects.get()
    assert job.selection == {"ids": [str(usd.pk)]}
    assert [r["id"] for r in _rows(finance_client, job)] == [str(usd.pk)]


def test_a_job_row_holding_anything_but_strings_fails_clearly(
    books: dict[str, Any], finance: Any
) -> None:
    job = ExportJob.objects.create(
        kind="donations",
        format="csv",
        selection={"changelist": {"status__exact": [{"py/reduce": ["os.system", "id"]}]}},
        requested_by=finance[0],
        expires_at=timezone.now() + timedelta(hours=1),
    )
    with pytest.raises(Exception, match="only lists of strings"):
        tasks.export_run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.file_name) == ("failed", "")
    assert "only lists of strings" in job.error


@pytest.mark.django_db(transaction=True)
def test_the_migration_fails_unfinished_pickled_jobs_without_unpickling(finance: Any) -> None:
    user = finance[0]
    executor = MigrationExecutor(connection)
    before, after = [("donations", "0023_outbox")], [("donations", "0024_export_selection")]
    executor.migrate(before)
    old = MigrationExecutor(connection).loader.project_state(before).apps
    old_job = old.get_model("donations", "ExportJob")
    expires = timezone.now() + timedelta(hours=1)
    bomb = b"cos\nsystem\n(S'touch /tmp/pwned'\ntR."  # a pickle that would run a command
    made = {
        name: old_job.objects.create(
            kind="donations",
            format="csv",
            status=status,
            query=query,
            requested_by_id=user.pk,
            expires_at=expires,
        ).pk
        for name, status, query in [
            ("queued_pickle", "queued", bomb),
            ("done_pickle", "done", bomb),
            ("queued_plain", "queued", None),
        ]
    }
    try:
        MigrationExecutor(connection).migrate(after)
    finally:
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )
    jobs = {name: ExportJob.objects.get(pk=pk) for name, pk in made.items()}
    assert (jobs["queued_pickle"].status, jobs["queued_pickle"].error) == (
        "failed",
        PICKLED_JOB_REFUSED,
    )
    assert jobs["done_pickle"].status == "done"
    assert jobs["queued_plain"].status == "queued"
    # A task still queued for the refused job returns without running it.
    tasks.export_run(jobs["queued_pickle"].pk)
    assert ExportJob.objects.get(pk=made["queued_pickle"]).file_name == ""
    assert not Path("/tmp/pwned").exists()
