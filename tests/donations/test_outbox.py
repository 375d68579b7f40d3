"""The transactional outbox: a gift's receipt and tribute notice are written with the gift's
own transaction (none for a rolled-back one), published after commit, relayed when the
publish failed, never published twice at once, pruned once sent; its queries stay served
by its indexes with millions of sent rows. The broker outage itself, with real processes:
tests/integration/test_outbox_broker_outage.py."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from donations import tasks
from donations.models import Donation, OutboxMessage
from donations.services import lifecycle
from donations.services.enqueue import RECEIPT_SEND, TRIBUTE_NOTICE_SEND
from tests.donations.event_helpers import Webhooks, fresh, gift_start

S = Donation.Status


def _tribute_gift(project: Any, fake_stripe: Any) -> Donation:
    d = gift_start(project, "30", email="giver@example.org")
    Donation.objects.filter(pk=d.pk).update(
        tribute_type="honor", tribute_name="Rosa", tribute_notify_email="rosa@example.org"
    )
    fake_stripe.pay(d.checkout_session_id)
    return d


def test_a_gift_writes_its_emails_to_the_outbox_in_its_transaction_and_sends_them(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    d = _tribute_gift(project, fake_stripe)
    hooks.deliver("checkout.session.completed", fake_stripe.get(d.checkout_session_id))

    rows = list(OutboxMessage.objects.order_by("id").values_list("task", "args", "sent_at"))
    assert [(task, args) for task, args, _ in rows] == [
        (RECEIPT_SEND, [str(d.pk)]),
        (TRIBUTE_NOTICE_SEND, [str(d.pk)]),
    ]
    assert all(sent_at is not None for *_, sent_at in rows)  # the fast path published them
    assert sorted(m.to[0] for m in mail.outbox) == ["giver@example.org", "rosa@example.org"]
    assert fresh(d).receipt_sent_at is not None


def test_a_rolled_back_success_leaves_nothing_in_the_outbox(
    project: Any, fake_stripe: Any, django_capture_on_commit_callbacks: Any
) -> None:
    d = _tribute_gift(project, fake_stripe)
    session = lifecycle_session(d)

    class Abort(Exception):
        pass

    def succeed_then_abort() -> None:
        with transaction.atomic():
            lifecycle.donation_session_sync(donation_id=d.pk, session=session)
            assert OutboxMessage.objects.count() == 2  # written with the gift...
            raise Abort

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Abort):
        succeed_then_abort()
    assert OutboxMessage.objects.count() == 0  # ...and gone with it
    assert fresh(d).status == S.PENDING
    assert mail.outbox == []


def lifecycle_session(d: Donation) -> Any:
    from donations.providers import provider

    return provider().checkout_session_get(str(d.checkout_session_id))


def test_the_relay_publishes_what_the_fast_path_could_not_once(
    project: Any, fake_stripe: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """As after a broker outage: the gift committed, its messages were never published."""
    d = _tribute_gift(project, fake_stripe)
    session = lifecycle_session(d)
    with django_capture_on_commit_callbacks(execute=False):  # the publish never happened
        lifecycle.donation_session_sync(donation_id=d.pk, session=session)
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 2
    assert mail.outbox == []

    assert tasks.outbox_relay() == 2
    assert tasks.outbox_relay() == 0  # nothing twice
    assert sorted(m.to[0] for m in mail.outbox) == ["giver@example.org", "rosa@example.org"]
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_a_relay_skips_a_message_another_publisher_holds(project: Any) -> None:
    """Two relays (or a relay and the fast path) at once: the row lock with SKIP LOCKED
    keeps the second off a message the first is publishing."""
    message = OutboxMessage.objects.create(task="donations.tasks.receipt_send", args=["x"])
    held, release = threading.Event(), threading.Event()

    def other_publisher() -> None:
        try:
            with transaction.atomic():
                OutboxMessage.objects.select_for_update().get(pk=message.pk)
                held.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_publisher)
    thread.start()
    try:
        assert held.wait(10)
        assert tasks.outbox_relay() == 0  # did not wait, did not publish
        assert OutboxMessage.objects.get(pk=message.pk).sent_at is None
    finally:
        release.set()
        thread.join(10)
    assert tasks.outbox_relay() == 1  # released: published now (the task finds no gift)
    assert OutboxMessage.objects.get(pk=message.pk).sent_at is not None


def test_prune_deletes_old_sent_messages_only(db: None) -> None:
    now = timezone.now()
    old_sent = OutboxMessage.objects.create(task=RECEIPT_SEND, args=["a"])
    recent_sent = OutboxMessage.objects.create(task=RECEIPT_SEND, args=["b"])
    old_unsent = OutboxMessage.objects.create(task=RECEIPT_SEND, args=["c"])
    OutboxMessage.objects.filter(pk=old_sent.pk).update(sent_at=now - timedelta(days=8))
    OutboxMessage.objects.filter(pk=recent_sent.pk).update(sent_at=now - timedelta(days=1))
    OutboxMessage.objects.filter(pk=old_unsent.pk).update(created_at=now - timedelta(days=30))

    assert tasks.outbox_prune() == 1
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {
        recent_sent.pk,
        old_unsent.pk,
    }


MANY = 50_000


def _plans(run: Any) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        run()
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in queries.captured_queries:
            sql = query["sql"]
            if "donations_outboxmessage" in sql and sql.lstrip().upper().startswith(
                ("SELECT", "DELETE")
            ):
                cursor.execute(f"EXPLAIN {sql}")
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


def test_relay_and_prune_are_served_by_the_partial_indexes(db: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO donations_outboxmessage (task, args, created_at, sent_at, attempts,"
            " last_error) SELECT 'donations.tasks.receipt_send', '[]',"
            " now() - interval '1 day' * (g %% 30), now() - interval '1 day' * (g %% 30), 1, ''"
            " FROM generate_series(1, %s) g",
            [MANY],
        )
        cursor.execute("ANALYZE donations_outboxmessage")
    OutboxMessage.objects.create(task="donations.tasks.receipt_send", args=["gone"])

    relay_plans = _plans(tasks.outbox_relay)
    prune_plans = _plans(tasks.outbox_prune)

    assert relay_plans and prune_plans
    assert all("Seq Scan" not in plan for plan in relay_plans + prune_plans), relay_plans
    assert any("outbox_unsent" in plan for plan in relay_plans), relay_plans
    assert any("outbox_sent" in plan for plan in prune_plans), prune_plans
