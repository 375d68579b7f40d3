"""Gunicorn and a real Celery worker through a real PgBouncer in transaction pooling
(tests/integration/pgbouncer.py): the giving walk, a refund, a payout, the exports of each
kind and a statement run, at sizes where the streaming reads fetch more than one chunk."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from celery.exceptions import AlwaysEagerIgnored
from django.utils import timezone

from campaign.celery import app as celery_app
from donations.services.seed import gifts_seed
from donations.services.statements import financial_year_of
from finance.models import StatementRun, StatementSent
from projects.models import Project
from tests.integration.conftest import Stack, wait_for
from tests.integration.pgbouncer import PgBouncer, pgbouncer_start

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bouncer(stack: Stack, tmp_path: Path) -> PgBouncer:
    return pgbouncer_start(stack, tmp_path)  # stopped with the stack's processes


def _through(stack: Stack, bouncer: PgBouncer, **extra: str) -> dict[str, str]:
    """The processes' environment: the database through PgBouncer, as production runs it."""
    return stack.env(
        DATABASE_URL=bouncer.url, PGBOUNCER="true", EMAIL_URL="consolemail://", **extra
    )


def _send(task: str, *args: Any) -> None:
    # send_task always goes through the broker (the test process's app runs others eagerly).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlwaysEagerIgnored)
        celery_app.send_task(task, args=list(args))


def test_a_statement_run_of_more_donors_than_one_fetch(
    stack: Stack, bouncer: PgBouncer, project: Project
) -> None:
    """Before: statement_donors iterated a server-side cursor in autocommit (WITH HOLD); the
    FETCH after the DECLARE landed on another server connection: 'cursor does not exist'."""
    gifts_seed(project, 2050, tag="stmt")
    year = financial_year_of(timezone.now())
    # Most donors had theirs already (the run skips them), so the run is short but its
    # donor list is longer than one fetch of 2,000.
    StatementSent.objects.bulk_create(
        StatementSent(donor_email=f"stmt{g}@example.org", year=year, sent_to="x@example.org")
        for g in range(1, 2046)
    )
    env = _through(stack, bouncer)
    worker = stack.worker(env)
    run = StatementRun.objects.create(year=year)
    before = bouncer.transactions()
    _send("finance.tasks.statement_run", run.pk)

    def finished() -> bool:
        run.refresh_from_db()
        if "raised unexpected" in worker.log.read_text(errors="replace"):
            pytest.fail(f"the statement run failed\n{stack.diagnostics()}")
        return run.status in {StatementRun.Status.DONE, StatementRun.Status.FAILED}

    wait_for(finished, timeout=90, what="the statement run", diagnostics=stack.diagnostics)
    assert run.status == StatementRun.Status.DONE, run.error
    assert (run.total, run.sent, run.skipped) == (2050, 5, 2045)
    sent = StatementSent.objects.filter(year=year, run=run)
    assert sorted(sent.values_list("donor_email", flat=True)) == [
        f"stmt{g}@example.org" for g in range(2046, 2051)
    ]
    assert "stmt2050@example.org" in worker.log.read_text(errors="replace")
    assert bouncer.transactions() - before > 2050  # the worker's work went through PgBouncer
