"""Receipts after a broker outage, with real processes: gunicorn, a Celery worker with its
beat, PostgreSQL and a broker of our own (a throwaway redis-server, so stopping it hurts
no one else). Gifts succeed while the broker is down (the donors' thank-you pages confirm
them from Stripe); every receipt is sent within a minute of the broker's return, from the
transactional outbox, not the 15-minute catch-up."""

from __future__ import annotations

import shutil
import sys
import time
import uuid

import pytest
import requests

from donations.models import Donation, OutboxMessage
from projects.models import Project
from tests.integration.conftest import Proc, Stack, donate_over_http, free_port, wait_for
from tests.stripe_fake import FakeStripe

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

GIFTS = 5
BROKER_BACK_WITHIN = 60  # seconds: donors expect the receipt within a minute


def _broker(stack: Stack, port: int) -> Proc:
    proc = stack._spawn(  # the harness spawner: killed with the stack
        "broker",
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stack.env(),
    )
    wait_for(
        lambda: "Ready to accept connections" in proc.log.read_text(errors="replace"),
        timeout=20,
        what="the throwaway broker to start",
        diagnostics=stack.diagnostics,
    )
    return proc


def _worker_with_beat(stack: Stack, env: dict[str, str]) -> Proc:
    """A prefork worker with beat embedded (-B): the outbox relay runs from its schedule."""
    proc = stack._spawn(
        "worker",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "campaign",
            "worker",
            "-B",
            "-s",
            str(stack.tmp_path / "beat-schedule"),
            "-Q",
            "celery,email",
            "--concurrency=2",
            "--pool=prefork",
            "--loglevel=INFO",
            "-n",
            f"outbox-{uuid.uuid4().hex[:8]}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        env,
    )
    wait_for(
        lambda: " ready." in proc.log.read_text(errors="replace"),
        timeout=60,
        what="the worker to be ready",
        diagnostics=stack.diagnostics,
    )
    return proc


def test_every_receipt_is_sent_within_a_minute_of_the_brokers_return(
    stack: Stack, project: Project, fake_stripe: FakeStripe
) -> None:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed (Debian's redis-server package)")
    port = free_port()
    broker = _broker(stack, port)
    env = stack.env(CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0")
    base = stack.gunicorn(env)
    worker = _worker_with_beat(stack, env)

    for n in range(GIFTS):
        donate_over_http(base, project.slug, donor_email=f"donor{n}@example.org")
    gifts = list(Donation.objects.order_by("created_at"))
    assert len(gifts) == GIFTS
    for gift in gifts:
        fake_stripe.pay(str(gift.checkout_session_id))

    stack.kill(broker)  # the broker dies; the gifts succeed all the same
    for gift in gifts:
        status = requests.get(f"{base}/donations/{gift.pk}/status.json", timeout=30)
        assert status.status_code == 200, status.text[:500]
        assert status.json()["status"] == "confirmed"
    assert Donation.objects.filter(status=Donation.Status.SUCCEEDED).count() == GIFTS
    unsent = OutboxMessage.objects.filter(sent_at__isnull=True)
    assert sorted(unsent.values_list("args", flat=True)) == sorted([str(g.pk)] for g in gifts)
    assert not Donation.objects.filter(receipt_sent_at__isnull=False).exists()
    gunicorn_log = stack.procs[1].log.read_text(errors="replace")
    assert "the outbox relay will" in gunicorn_log  # the fast path failed, as it must
    time.sleep(12)  # longer than a beat tick: the relay cannot run either

    _broker(stack, port)  # back, empty (what was queued before died with it)
    back = time.monotonic()
    wait_for(
        lambda: not Donation.objects.filter(receipt_sent_at__isnull=True).exists(),
        timeout=BROKER_BACK_WITHIN,
        what="every receipt to be sent after the broker's return",
        interval=0.5,
        diagnostics=stack.diagnostics,
    )
    took = time.monotonic() - back
    sys.stderr.write(f"receipts sent {took:.1f} s after the broker's return\n")
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    assert worker.alive()
    assert "Outbox relay published" in worker.log.read_text(errors="replace")
