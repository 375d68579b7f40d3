"""A running Celery worker survives a PostgreSQL restart: the next task reconnects and the
inbox drains, with no worker restart. The database is a throwaway cluster (see
throwaway_pg.py); the worker keeps CELERY_DB_REUSE_MAX, as in production."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from celery.exceptions import AlwaysEagerIgnored

from campaign.celery import app as celery_app
from tests.integration.conftest import ROOT, Stack, free_port, wait_for
from tests.integration.throwaway_pg import ThrowawayPostgres

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DBNAME = "campaign_restart"


@pytest.fixture
def throwaway_pg(stack: Stack) -> Iterator[ThrowawayPostgres]:
    pg = ThrowawayPostgres(free_port())
    try:
        pg.start()
        conn = pg.connect()
        try:
            conn.cursor().execute(f"CREATE DATABASE {DBNAME}")
        finally:
            conn.close()
        env = stack.env(DATABASE_URL=pg.url(DBNAME))
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert migrate.returncode == 0, migrate.stdout + migrate.stderr
        yield pg
    finally:
        stack.stop_all()  # the worker goes before its database
        pg.destroy()


def _insert_events(pg: ThrowawayPostgres, n: int, *, age_seconds: int) -> list[int]:
    """Stored, unprocessed events of a type we do not handle (processing marks them
    ignored: a read and two writes, no Stripe call)."""
    ids = []
    conn = pg.connect(DBNAME)
    try:
        with conn.cursor() as cur:
            for _ in range(n):
                stripe_id = f"evt_{uuid.uuid4().hex}"
                payload = {"id": stripe_id, "type": "customer.created", "data": {"object": {}}}
                cur.execute(
                    "INSERT INTO donations_webhookevent (stripe_id, type, api_version, livemode,"
                    " payload, status, received_at, attempts, last_error) VALUES"
                    " (%s, 'customer.created', '', false, %s, 'received',"
                    " now() - make_interval(secs => %s), 0, '') RETURNING id",
                    [stripe_id, json.dumps(payload), age_seconds],
                )
                ids.append(cur.fetchone()[0])
    finally:
        conn.close()
    return ids


def _statuses(pg: ThrowawayPostgres, ids: list[int]) -> dict[int, str]:
    conn = pg.connect(DBNAME)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, status FROM donations_webhookevent WHERE id = ANY(%s)", [ids])
            return dict(cur.fetchall())
    finally:
        conn.close()


def _failures(log: str) -> int:
    """Tasks that failed on the database: retried (the policy) or, past it, raised."""
    return sum(
        line.count("OperationalError")
        for line in log.splitlines()
        if "retry: Retry in" in line or "raised unexpected" in line
    )


def _send(task: str, *args: Any) -> None:
    # send_task always goes through the broker (the test process's app runs others eagerly).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AlwaysEagerIgnored)
        celery_app.send_task(task, args=list(args))


def test_worker_reconnects_after_postgres_restart(
    stack: Stack, throwaway_pg: ThrowawayPostgres
) -> None:
    pg = throwaway_pg
    env = stack.env(DATABASE_URL=pg.url(DBNAME))
    # One process, so the connection that the restart kills is the one every later task
    # would use (with more processes a fresh one could hide the defect).
    worker = stack.worker(env, concurrency=1)

    def all_ignored(ids: list[int]) -> bool:
        return set(_statuses(pg, ids).values()) == {"ignored"}

    warm = _insert_events(pg, 3, age_seconds=0)
    for pk in warm:
        _send("donations.tasks.event_process", pk)
    wait_for(
        lambda: all_ignored(warm),
        timeout=30,
        what="the worker to process events before the restart",
        diagnostics=stack.diagnostics,
    )

    pg.stop()
    # Tasks that run while the database is down fail; that must not poison the worker.
    for _ in range(2):
        _send("donations.tasks.inbox_sweep")
    wait_for(
        lambda: _failures(worker.log.read_text(errors="replace")) >= 2,
        timeout=30,
        what="the sweeps to fail while PostgreSQL is down",
        diagnostics=stack.diagnostics,
    )
    pg.start()

    # A backlog the sweep must find (stored a minute ago, never enqueued) and a new event.
    backlog = _insert_events(pg, 5, age_seconds=60)
    (fresh,) = _insert_events(pg, 1, age_seconds=0)
    _send("donations.tasks.event_process", fresh)
    wait_for(
        lambda: all_ignored([fresh]),
        timeout=30,
        what="a new event to be processed after the restart",
        diagnostics=stack.diagnostics,
    )
    _send("donations.tasks.inbox_sweep")
    wait_for(
        lambda: all_ignored(backlog),
        timeout=30,
        what="the sweep to drain the backlog after the restart",
        diagnostics=stack.diagnostics,
    )
    assert worker.alive(), "the worker was not restarted"
    assert "connection already closed" not in worker.log.read_text(errors="replace")


SEED_GIFT = """
from decimal import Decimal
from django.utils import timezone
from djmoney.money import Money
from projects.models import FundingTotals, Project
from donations.models import Donation
p = Project(title="Forest", slug="forest", status="published", summary="A forest.", place="V",
            country="Peru", cost=Money(1000, "USD"), acres=Decimal(10))
p.publish(); p.save()
FundingTotals.objects.create(project=p, raised=Money(25, "USD"), matched=Money(0, "USD"))
d = Donation.objects.create(project=p, amount=Money(25, "USD"), donor_name="Ana Outage",
    donor_email="ana.outage@example.org", status="succeeded", counted=Decimal(25),
    succeeded_at=timezone.now())
print(d.pk)
"""


def test_tasks_retry_through_a_database_outage(
    stack: Stack, throwaway_pg: ThrowawayPostgres
) -> None:
    """Before: event tasks retried only when the gift was not yet known, and receipts only
    on OSError, so an outage dropped them to the sweep and the 15-minute catch-up."""
    pg = throwaway_pg
    env = stack.env(DATABASE_URL=pg.url(DBNAME), EMAIL_URL="consolemail://")
    seeded = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", SEED_GIFT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert seeded.returncode == 0, seeded.stderr
    donation_id = seeded.stdout.strip().splitlines()[-1]
    worker = stack.worker(env, concurrency=1)
    (event,) = _insert_events(pg, 1, age_seconds=0)

    pg.stop()
    _send("donations.tasks.event_process", event)
    _send("donations.tasks.receipt_send", donation_id)
    wait_for(
        lambda: worker.log.read_text(errors="replace").count("Retry in") >= 2,
        timeout=30,
        what="both tasks to be retried while PostgreSQL is down",
        diagnostics=stack.diagnostics,
    )
    pg.start()

    def receipt_sent() -> bool:
        conn = pg.connect(DBNAME)
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT receipt_sent_at IS NOT NULL FROM donations_donation WHERE id = %s",
                    [donation_id],
                )
                return bool(cur.fetchone()[0])
        finally:
            conn.close()

    wait_for(
        lambda: _statuses(pg, [event]) == {event: "ignored"} and receipt_sent(),
        timeout=90,
        what="the retried tasks to process the event and send the receipt",
        diagnostics=stack.diagnostics,
    )
    log = worker.log.read_text(errors="replace")
    assert "ana.outage@example.org" in log  # the console email backend printed the receipt
    assert "OperationalError" in log
