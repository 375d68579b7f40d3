"""The webhook inbox: receive (verify, store once, enqueue after commit) and process
(re-fetch from Stripe, apply through the lifecycle services)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from donations.models import Donation, WebhookEvent
from donations.providers import MalformedEvent, ProviderError, provider
from donations.providers.base import Fact
from donations.providers.facts import (
    DisputeFact,
    InvoiceFact,
    PaymentFact,
    PayoutFact,
    SessionFact,
    SubscriptionFact,
    VerifiedEvent,
)
from donations.services import enqueue, lifecycle, payment_failed_email, payouts, publish
from donations.services.lifecycle import DonationNotFound

logger = logging.getLogger(__name__)

E = WebhookEvent.Status


def _inbox_insert(event: VerifiedEvent, received_at: datetime) -> int | None:
    """Store an event unless its id is already stored: one statement, safe under concurrent
    deliveries of the same event (the unique stripe_id decides). Returns the new row's id,
    or None for a duplicate. The ORM cannot return the id of an ON CONFLICT DO NOTHING insert.
    """
    meta = WebhookEvent._meta
    payload = meta.get_field("payload").get_db_prep_value(event.payload, connection)
    received = meta.get_field("received_at").get_db_prep_value(received_at, connection)
    with connection.cursor() as cursor:
        # Plain SQL both PostgreSQL and SQLite (3.35+, the demo) understand.
        cursor.execute(
            f"INSERT INTO {meta.db_table} "  # noqa: S608 - our table name; values are parameters
            "(stripe_id, type, api_version, livemode, payload, status, received_at, attempts,"
            " last_error) VALUES (%s, %s, %s, %s, %s, %s, %s, 0, '')"
            " ON CONFLICT (stripe_id) DO NOTHING RETURNING id",
            [
                event.id,
                event.type,
                event.api_version,
                event.livemode,
                payload,
                E.RECEIVED,
                received,
            ],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


def webhook_receive(*, payload: bytes, signature: str | None) -> tuple[WebhookEvent, bool]:
    """Verify and store an event once; schedule processing after commit.

    Raises SignatureError for a bad signature or stale timestamp (nothing stored) and lets
    database errors through (the view answers 5xx so that Stripe retries).
    """
    event = provider().webhook_verify(payload, signature)
    received_at = timezone.now()
    pk = _inbox_insert(event, received_at)
    if pk is not None:
        stored = WebhookEvent(
            pk=pk,
            stripe_id=event.id,
            type=event.type,
            api_version=event.api_version,
            livemode=event.livemode,
            payload=event.payload,
            status=E.RECEIVED,
            received_at=received_at,
        )
        publish.task_publish_on_commit(enqueue.EVENT_PROCESS, pk)
        return stored, True
    stored = WebhookEvent.objects.get(stripe_id=event.id)
    if stored.status in {E.RECEIVED, E.RETRYING}:
        # Stripe redelivers what we have not confirmed processing of: give it another go.
        publish.task_publish_on_commit(enqueue.EVENT_PROCESS, stored.pk)
    return stored, False


class NotOurs(Exception):
    """The event is about no gift of ours (another product's charge on a shared Stripe
    account): recognised and marked ignored, never retried."""


def _donation_for_payment(payment: PaymentFact) -> str:
    if payment.donation_id:
        return payment.donation_id
    ids = Q(pk__in=[])
    if payment.charge_id:
        ids |= Q(charge_id=payment.charge_id)
    if payment.payment_intent_id:
        ids |= Q(payment_intent_id=payment.payment_intent_id)
    found = list(Donation.objects.filter(ids).values_list("pk", flat=True)[:1])
    if not found:
        # Our Checkout charges carry our metadata; a monthly instalment's charge does not,
        # but its invoice.paid records it (with this charge). Anything else is not ours.
        raise NotOurs(
            f"Charge {payment.charge_id} carries no donation id and no gift of ours knows it"
        )
    return str(found[0])


def _plan_for_invoice(invoice: InvoiceFact) -> str:
    plan_id = invoice.plan_donation_id
    if not plan_id and invoice.subscription_id:
        found = (
            Donation.objects.filter(subscription_id=invoice.subscription_id, parent__isnull=True)
            .values_list("pk", flat=True)
            .first()
        )
        plan_id = str(found) if found else None
    if not plan_id:
        raise NotOurs(f"Invoice {invoice.id} belongs to no gift of ours")
    return plan_id


def fact_apply(fact: Fact, *, event_id: str) -> None:
    """Hand one re-fetched fact to the lifecycle service it concerns."""
    if isinstance(fact, SessionFact):
        if not fact.donation_id:
            raise NotOurs(f"Checkout session {fact.id} carries no donation id: no gift of ours")
        lifecycle.donation_session_sync(
            donation_id=fact.donation_id, session=fact, event_id=event_id
        )
    elif isinstance(fact, PaymentFact):
        lifecycle.donation_charge_sync(
            donation_id=_donation_for_payment(fact), payment=fact, event_id=event_id
        )
    elif isinstance(fact, DisputeFact):
        lifecycle.donation_dispute_sync(
            donation_id=_donation_for_payment(fact.payment), dispute=fact, event_id=event_id
        )
    elif isinstance(fact, InvoiceFact):
        # By the invoice as it is now, whichever event brought it: a failure reported after
        # Stripe's retry succeeded records the success.
        plan_id = _plan_for_invoice(fact)
        if fact.status in {"open", "uncollectible"} and fact.attempted:
            lifecycle.instalment_fail(plan_id=plan_id, invoice=fact, event_id=event_id)
            # The donor hears of it once per failed attempt, with a link to update the card;
            # not for the first payment: that gift failed (the thank-you page says so).
            if fact.billing_reason != "subscription_create":
                payment_failed_email.payment_failure_record(plan_id=plan_id, invoice=fact)
        else:
            lifecycle.instalment_record(plan_id=plan_id, invoice=fact, event_id=event_id)
    elif isinstance(fact, SubscriptionFact):
        if not fact.donation_id:
            raise NotOurs(f"Subscription {fact.id} carries no donation id: no gift of ours")
        lifecycle.subscription_status_record(
            plan_id=fact.donation_id, status=fact.status, event_id=event_id
        )
    elif isinstance(fact, PayoutFact):
        payouts.payout_record(fact=fact)
    else:
        raise TypeError(f"No service applies {type(fact).__name__}")


class ProcessingDeferred(Exception):
    """Processing should be tried again later (Stripe unreachable, gift not yet known)."""


def event_process(*, event_pk: int) -> str:
    """Process one stored event. Safe to run twice, concurrently, or after a crash: every
    state change below is idempotent and takes the donation's row lock."""
    event = WebhookEvent.objects.filter(pk=event_pk).first()
    if event is None or event.status in {E.PROCESSED, E.IGNORED}:
        return "skipped"
    WebhookEvent.objects.filter(pk=event_pk).update(attempts=F("attempts") + 1)
    verified = VerifiedEvent(
        id=event.stripe_id,
        type=event.type,
        api_version=event.api_version,
        livemode=event.livemode,
        payload=event.payload,
    )
    try:
        # Re-fetch the authoritative object first, outside any transaction: row locks are
        # taken only after the provider calls, never across them.
        fact = provider().event_fact(verified)
        if fact is None:
            WebhookEvent.objects.filter(pk=event_pk).exclude(status=E.PROCESSED).update(
                status=E.IGNORED, processed_at=timezone.now()
            )
            return "ignored"
        # The state change and "processed" commit together (one commit, no window between).
        with transaction.atomic():
            fact_apply(fact, event_id=event.stripe_id)
            WebhookEvent.objects.filter(pk=event_pk).update(
                status=E.PROCESSED, processed_at=timezone.now(), last_error=""
            )
    except NotOurs as exc:
        WebhookEvent.objects.filter(pk=event_pk).exclude(status=E.PROCESSED).update(
            status=E.IGNORED, processed_at=timezone.now(), last_error=str(exc)[:2000]
        )
        logger.info("Webhook event %s ignored: %s", event.stripe_id, exc)
        return "ignored"
    except MalformedEvent as exc:  # stored before it was refused at the door: it never will be
        WebhookEvent.objects.filter(pk=event_pk).exclude(status=E.PROCESSED).update(
            status=E.FAILED, last_error=f"Unprocessable: {exc}"[:2000]
        )
        # An expected refusal: the message is the whole story, a traceback would be noise.
        logger.error("Webhook event %s cannot be processed: %s", event.stripe_id, exc)  # noqa: TRY400
        return "failed"
    except (DonationNotFound, ProviderError) as exc:
        retryable = isinstance(exc, DonationNotFound) or getattr(exc, "retryable", False)
        WebhookEvent.objects.filter(pk=event_pk).exclude(status=E.PROCESSED).update(
            status=E.RETRYING if retryable else E.FAILED, last_error=str(exc)[:2000]
        )
        if retryable:
            raise ProcessingDeferred(str(exc)) from exc
        logger.error("Webhook event %s failed: %s", event.stripe_id, exc)  # noqa: TRY400 - as above
        return "failed"
    except Exception as exc:
        WebhookEvent.objects.filter(pk=event_pk).exclude(status=E.PROCESSED).update(
            status=E.RETRYING, last_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    return "processed"


MAX_SWEEP_ATTEMPTS = 25


def inbox_sweep(*, older_than: timedelta = timedelta(seconds=30)) -> list[int]:
    """Events stored but not processed (broker was down, worker died, gift not yet known)."""
    cutoff = timezone.now() - older_than
    pending = list(
        WebhookEvent.objects.filter(
            status__in=[E.RECEIVED, E.RETRYING],
            received_at__lte=cutoff,
            attempts__lt=MAX_SWEEP_ATTEMPTS,
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:500]
    )
    WebhookEvent.objects.filter(
        status__in=[E.RECEIVED, E.RETRYING], attempts__gte=MAX_SWEEP_ATTEMPTS
    ).update(status=E.FAILED)
    return pending
