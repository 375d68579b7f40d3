"""Sending an update to its donors exactly once.

``deliveries_create`` writes one Delivery row per (update, address) in one pass over the
recipient index (unique on the pair, so running it twice adds nothing). The fan-out then
sends in chunks, each chunk one task on the email queue: ``deliveries_send_chunk`` reads the
next queued rows and what it needs about their addresses (opt-outs, bounces, their gifts) in
a few queries, then claims one row at a time with ``SELECT ... FOR UPDATE SKIP LOCKED``
(still queued), sends it and marks it sent in the same transaction. So:

- two workers (a redelivered task, the resume job, a second chunk) never claim the same row:
  the second skips the locked one and the conditional UPDATE (status still queued) refuses
  a row another transaction already marked;
- a worker killed mid-chunk rolls back only the email in flight: its row is still queued
  and the resume job (``fanouts_stalled``) starts a new chunk, which carries on from there.

What no database can close is the moment between the mail server accepting a message and
our COMMIT: a worker killed exactly there leaves a sent message whose row is still queued.
The resend has the same Message-ID (``update_message``), which mailbox providers collapse.

The rate (UPDATE_EMAIL_RATE per second) is kept between chunks: the next chunk is queued
with a countdown so that a chunk of N emails takes at least N / rate seconds.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from stewardship import selectors
from stewardship.models import Delivery, Update
from stewardship.services.update_email import update_message

logger = logging.getLogger(__name__)
CREATE_BATCH = 2000


def deliveries_create(*, update: Update) -> int:
    """One queued Delivery per donor address of the update's project, in the language of
    their latest gift; idempotent (unique on the pair). Returns how many rows are new."""
    made = 0
    batch: list[Delivery] = []
    for email, language in selectors.recipients(update.project):
        batch.append(Delivery(update=update, email=email, language=language))
        if len(batch) >= CREATE_BATCH:
            made += len(Delivery.objects.bulk_create(batch, ignore_conflicts=True))
            batch = []
    if batch:
        made += len(Delivery.objects.bulk_create(batch, ignore_conflicts=True))
    return made


@dataclass(frozen=True)
class Chunk:
    handled: int  # rows this chunk moved out of "queued"
    more: bool  # queued rows remain
    seconds: float  # how long the chunk took


@dataclass(frozen=True)
class _Facts:
    """What a chunk needs to know about its addresses, read in a few queries for all."""

    bounced: set[str]
    opted_out: set[str]
    giving: dict[str, tuple[int, Decimal]]  # the donor's gifts to the project: count, sum

    def skip_reason(self, email: str) -> str:
        if email in self.bounced:
            return Delivery.Skip.BOUNCED
        if email in self.opted_out:
            return Delivery.Skip.OPTED_OUT
        if email not in self.giving:
            return Delivery.Skip.ERASED  # the gift was erased or fully refunded since
        return ""


def _facts(update: Update, emails: list[str]) -> _Facts:
    giving = {
        row["donor_email"]: (int(row["n"]), Decimal(row["s"] or 0))
        for row in selectors.donor_gifts(update.project)
        .filter(donor_email__in=emails)
        .values("donor_email")
        .annotate(n=Count("pk"), s=Sum("counted"))
    }
    return _Facts(
        bounced=selectors.bounced(emails),
        opted_out=selectors.opted_out(emails, update.project_id),
        giving=giving,
    )


def _one(update: Update, pk: int, facts: _Facts) -> bool:
    """Claim, send and record one queued delivery; False when another worker has it (its
    row is locked) or had it (no longer queued)."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, status=Delivery.Status.QUEUED)
            .first()
        )
        if delivery is None:
            return False
        claimed = Delivery.objects.filter(pk=pk, status=Delivery.Status.QUEUED)
        reason = facts.skip_reason(delivery.email)
        if reason:
            claimed.update(status=Delivery.Status.SKIPPED, skip_reason=reason)
            return True
        try:
            update_message(
                update,
                email=delivery.email,
                language=delivery.language,
                message_key=str(delivery.pk),
                giving=facts.giving[delivery.email],
            ).send()
        except (OSError, OperationalError, InterfaceError):
            raise  # the mail server or the database, not this address: the task retries
        except Exception as exc:  # this address's email cannot be made: the rest go on
            logger.exception("Update %s to delivery %s failed", update.pk, delivery.pk)
            claimed.update(status=Delivery.Status.FAILED, error=str(exc)[:300])
            return True
        claimed.update(status=Delivery.Status.SENT, sent_at=timezone.now())
    return True


def deliveries_send_chunk(*, update_id: int, limit: int | None = None) -> Chunk:
    """Send up to ``limit`` (UPDATE_EMAIL_CHUNK) of the update's queued emails."""
    started = time.monotonic()
    limit = limit or settings.UPDATE_EMAILS.chunk
    update = Update.objects.select_related("project").filter(pk=update_id).first()
    if update is None or update.status != Update.Status.PUBLISHED:
        return Chunk(0, False, 0.0)
    Update.objects.filter(pk=update_id).update(sending_heartbeat_at=timezone.now())
    # The next queued rows, unlocked: each is claimed on its own below (another worker on
    # the same update reads the same list and skips the rows this one holds or has done).
    candidates = list(
        Delivery.objects.filter(update_id=update_id, status=Delivery.Status.QUEUED)
        .order_by("id")
        .values_list("pk", "email")[:limit]
    )
    facts = _facts(update, [email for _pk, email in candidates])
    handled = sum(_one(update, pk, facts) for pk, _email in candidates)
    more = Delivery.objects.filter(update_id=update_id, status=Delivery.Status.QUEUED).exists()
    Update.objects.filter(pk=update_id).update(
        sending_heartbeat_at=timezone.now() if more else None
    )
    return Chunk(handled, more, time.monotonic() - started)


def next_chunk_delay(chunk: Chunk) -> float:
    """Seconds to wait before the next chunk so the fan-out keeps UPDATE_EMAIL_RATE."""
    return max(0.0, chunk.handled / settings.UPDATE_EMAILS.rate - chunk.seconds)


def fanouts_stalled() -> list[int]:
    """Published updates with queued emails whose fan-out made no progress for
    UPDATE_SEND_STALL_SECONDS (its worker was killed, or its next chunk was lost)."""
    cutoff = timezone.now() - timedelta(seconds=settings.UPDATE_EMAILS.stall_seconds)
    candidates = Update.objects.filter(
        status=Update.Status.PUBLISHED, emails_queued_at__isnull=False
    ).exclude(sending_heartbeat_at__gt=cutoff)
    queued = Delivery.objects.filter(update__in=candidates, status=Delivery.Status.QUEUED)
    return sorted(set(queued.values_list("update_id", flat=True).distinct()))


def deliveries_by_status(update: Update) -> dict[str, int]:
    counts = dict.fromkeys(Delivery.Status.values, 0)
    for row in Delivery.objects.filter(update=update).values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return counts
