"""The transactional outbox: work a state change must cause (a receipt, a tribute notice, a
failed-payment notice, later an update delivery) is written as a row in the change's own
transaction, so it exists exactly when the change does. After commit it is published at
once (the fast path); a broker outage leaves it unsent, and the relay (beat every
OUTBOX_RELAY_SECONDS, and at worker start) publishes it when the broker is back.

Delivery is at least once: a process that dies between the broker's acceptance and the row's
"sent" mark publishes it again later, so every task queued here is idempotent (each sends
once under its own lock). Two publishers never publish the same row together: each takes
the row lock with SKIP LOCKED and passes over a row another one holds."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import current_app
from celery.exceptions import NotRegistered
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from donations.models import OutboxMessage

logger = logging.getLogger(__name__)

RELAY_BATCH = 100
# Sent rows are kept this long (to see what went out and when), then pruned (beat).
KEEP_SENT = timedelta(days=7)


def outbox_write(task_name: str, *args: str | int) -> OutboxMessage:
    """Queue a task with the current transaction: written now, published after commit
    (never for a rolled-back change). Arguments must be JSON (ids)."""
    message = OutboxMessage.objects.create(task=task_name, args=list(args))
    transaction.on_commit(lambda: message_publish(message_id=message.pk))
    return message


def _publish(message: OutboxMessage) -> None:
    current_app.tasks[message.task].apply_async(args=message.args)


def message_publish(*, message_id: int) -> bool:
    """The fast path: publish one message unless it is sent or another publisher holds it.
    A broker outage is logged, not raised: the relay publishes it when the broker is back."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, sent_at__isnull=True)
            .first()
        )
        if message is None:
            return False
        try:
            _publish(message)  # under the row lock: no second publisher meanwhile
        except Exception as exc:  # noqa: BLE001 - broker down: the relay publishes it later
            _attempt_failed([message.pk], exc)
            logger.warning("Could not queue %s (%s); the outbox relay will", message, exc)
            return False
        _sent([message.pk])
    return True


def _sent(ids: list[int]) -> None:
    OutboxMessage.objects.filter(pk__in=ids, sent_at__isnull=True).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
    )


def _attempt_failed(ids: list[int], exc: Exception) -> None:
    OutboxMessage.objects.filter(pk__in=ids).update(
        attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:300]
    )


def outbox_relay(*, limit: int = 5000) -> int:
    """Publish every unsent message, oldest first, in batches that each hold their rows'
    locks until marked sent (rows another relay or a fast path holds are skipped). Stops at
    the first publish that fails (the broker is down again). Returns how many it published."""
    published = 0
    while published < limit:
        with transaction.atomic():
            batch = list(
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(sent_at__isnull=True)
                .order_by("created_at")[:RELAY_BATCH]
            )
            if not batch:
                break
            done: list[int] = []
            failure: Exception | None = None
            for message in batch:
                try:
                    _publish(message)
                except NotRegistered as exc:  # a bug, not an outage: the others go on
                    _attempt_failed([message.pk], exc)
                    logger.error("Outbox message %s names no task", message.pk)  # noqa: TRY400
                    continue
                except Exception as exc:  # noqa: BLE001 - broker down: stop, try next run
                    failure = exc
                    break
                done.append(message.pk)
            _sent(done)
            if failure is not None:
                left = [m.pk for m in batch[batch.index(message) :]]
                _attempt_failed(left, failure)
                logger.warning("Outbox relay stopped after %s: %s", published, failure)
                return published + len(done)
        published += len(done)
    if published:
        logger.info("Outbox relay published %s queued messages", published)
    return published


def outbox_prune(*, keep: timedelta, batch: int = 10_000) -> int:
    """Delete sent messages older than ``keep``, in batches (short transactions, the
    partial index on sent_at serves each). Unsent messages are never deleted."""
    cutoff = timezone.now() - keep
    deleted = 0
    while True:
        ids = list(
            OutboxMessage.objects.filter(sent_at__lt=cutoff)
            .order_by("sent_at")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return deleted
        deleted += OutboxMessage.objects.filter(pk__in=ids).delete()[0]
