"""The webhook path through real processes: gunicorn, Celery prefork workers, PostgreSQL,
Redis and the recorded-response Stripe server, including a database that is down, a broker
that is down and a worker killed in the middle of a task."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.db.models import F

from donations import tasks
from donations.models import Donation, TransitionLog, WebhookEvent
from projects.models import FundingTotals, Project
from tests.conftest import WEBHOOK_SECRET
from tests.integration.conftest import (
    Stack,
    donate_over_http,
    free_port,
    post_webhook,
    wait_for,
)
from tests.stripe_fake import FakeStripe, new_id, recording, signed_event

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RAISED_50 = 'data-testid="raised">$50<'


def _paid_session_event(
    base: str, project: Project, fake_stripe: FakeStripe
) -> tuple[Donation, str, str]:
    """A $50 gift started on the running server, paid at the fake Stripe; its signed
    checkout.session.completed event (body, header)."""
    donate_over_http(base, project.slug)
    donation = Donation.objects.get()
    assert donation.status == Donation.Status.PENDING
    assert donation.checkout_session_id
    session = fake_stripe.pay(donation.checkout_session_id)
    body, header = signed_event("checkout.session.completed", session, secret=WEBHOOK_SECRET)
    return donation, body, header


def _assert_counted_once(donation: Donation, project: Project) -> None:
    donation.refresh_from_db()
    assert donation.status == Donation.Status.SUCCEEDED
    succeeded = TransitionLog.objects.filter(
        donation=donation, to_status=Donation.Status.SUCCEEDED, applied=True
    )
    assert succeeded.count() == 1, list(succeeded.values("action", "event_id", "created_at"))
    totals = FundingTotals.objects.get(project=project)
    assert totals.raised.amount == Decimal("50")
    assert totals.gift_count == 1
    assert totals.donor_count == 1


def test_worker_end_to_end(stack: Stack, project: Project, fake_stripe: FakeStripe) -> None:
    env = stack.env()
    base = stack.gunicorn(env)
    stack.worker(env)
    donation, body, header = _paid_session_event(base, project, fake_stripe)

    response = post_webhook(base, body, header)
    assert response.status_code == 200, response.text
    assert response.json() == {"received": True, "duplicate": False}

    page_url = f"{base}/projects/{project.slug}/"
    wait_for(
        lambda: RAISED_50 in requests.get(page_url, timeout=10).text,
        timeout=20,
        what="the thermometer on the served page to show $50",
        diagnostics=stack.diagnostics,
    )
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.PROCESSED
    assert event.attempts == 1
    _assert_counted_once(donation, project)
    # The worker re-fetched the session from "Stripe" rather than trusting the payload.
    assert any(
        r["method"] == "GET"
        and r["path"] == f"/v1/checkout/sessions/{donation.checkout_session_id}"
        for r in fake_stripe.requests
    )


def test_database_down_at_webhook(stack: Stack, fake_stripe: FakeStripe) -> None:
    nowhere = f"postgres://postgres@127.0.0.1:{free_port()}/campaign_down"
    base = stack.gunicorn(stack.env(DATABASE_URL=nowhere), healthy=False)
    session = recording("checkout_session")
    session["id"] = new_id("cs")
    body, header = signed_event("checkout.session.completed", session, secret=WEBHOOK_SECRET)

    response = post_webhook(base, body, header)
    assert response.status_code == 503, response.text
    health = requests.get(f"{base}/healthz", timeout=10)
    assert health.status_code == 503
    report = health.json()
    assert report["status"] == "error"
    assert report["checks"]["database"].startswith("error")
    assert report["checks"]["cache"] == "ok"
    assert not WebhookEvent.objects.exists()

    # Stripe retries the same delivery; once the database answers it is stored, once.
    healthy = stack.gunicorn(stack.env())
    for _ in range(2):
        assert post_webhook(healthy, body, header).status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.payload["data"]["object"]["id"] == session["id"]


@pytest.mark.parametrize("broker", ["refused", "silent"])
def test_broker_down_then_sweep(
    stack: Stack,
    project: Project,
    fake_stripe: FakeStripe,
    request: pytest.FixtureRequest,
    broker: str,
) -> None:
    """refused: nothing listens on the broker port; silent: it accepts and never answers."""
    if broker == "refused":
        broker_url = f"redis://127.0.0.1:{free_port()}/0"
    else:
        broker_url = f"redis://127.0.0.1:{request.getfixturevalue('silent_broker').port}/0"
    env = stack.env(CELERY_BROKER_URL=broker_url)
    base = stack.gunicorn(env)
    donation, body, header = _paid_session_event(base, project, fake_stripe)

    # Answered (within gunicorn's 30 s worker timeout, or the connection would be cut).
    response = post_webhook(base, body, header)
    assert response.status_code == 200, response.text
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.RECEIVED
    assert event.attempts == 0
    assert "Could not queue donations.tasks.event_process" in stack.procs[0].log.read_text()
    donation.refresh_from_db()
    assert donation.status == Donation.Status.PENDING
    assert FundingTotals.objects.get(project=project).raised.amount == 0

    # Beat's sweep a minute later (it leaves events younger than 30 s to the queue).
    WebhookEvent.objects.update(received_at=F("received_at") - timedelta(minutes=1))
    assert tasks.inbox_sweep() == 1

    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED
    assert event.attempts == 1
    _assert_counted_once(donation, project)


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def test_worker_killed_mid_task(stack: Stack, project: Project, fake_stripe: FakeStripe) -> None:
    env = stack.env()
    base = stack.gunicorn(env)
    first = stack.worker(env)
    donation, body, header = _paid_session_event(base, project, fake_stripe)
    retrieve = f"/v1/checkout/sessions/{donation.checkout_session_id}"
    fake_stripe.delay("/v1/checkout/sessions/", 5)

    assert post_webhook(base, body, header).status_code == 200

    def task_started() -> bool:
        return any(r["method"] == "GET" and r["path"] == retrieve for r in fake_stripe.requests)

    wait_for(
        task_started,
        timeout=20,
        what="the worker to fetch the session",
        diagnostics=stack.diagnostics,
    )
    stack.kill(first)  # SIGKILL the worker's whole process group mid-task
    wait_for(lambda: _group_gone(first.popen.pid), timeout=10, what="the killed worker to be gone")

    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.RECEIVED
    assert event.attempts == 1
    donation.refresh_from_db()
    assert donation.status == Donation.Status.PENDING
    assert FundingTotals.objects.get(project=project).raised.amount == 0
    assert not TransitionLog.objects.filter(donation=donation).exists()

    # A new worker. The unacknowledged message waits for Redis's visibility timeout (an hour),
    # so the recovery path is beat's inbox sweep, run here through the broker as beat would,
    # a minute after the event arrived.
    fake_stripe.delay("/v1/checkout/sessions/", 0)
    stack.worker(env)
    WebhookEvent.objects.update(received_at=F("received_at") - timedelta(minutes=1))
    stack.celery_call(env, "donations.tasks.inbox_sweep")

    def processed() -> bool:
        return WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).exists()

    wait_for(
        processed, timeout=30, what="the sweep to process the event", diagnostics=stack.diagnostics
    )
    event.refresh_from_db()
    assert event.attempts == 2
    _assert_counted_once(donation, project)
    page = requests.get(f"{base}/projects/{project.slug}/", timeout=10).text
    assert RAISED_50 in page
