"""The webhook inbox: receive (verify, store once, enqueue after commit) and process
(re-fetch from Stripe, apply through the lifecycle services)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from donations.models import Donation, WebhookEvent
from donations.services import gateway, lifecycle
from donations.services.lifecycle import DonationNotFound

logger = logging.getLogger(__name__)

E = WebhookEvent.Status

# Events the endpoint must be subscribed to (README lists them too).
HANDLED_TYPES = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "charge.succeeded",
    "charge.updated",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "invoice.paid",
    "customer.subscription.deleted",
)


def _enqueue(event_pk: int) -> None:
    from donations.tasks import event_process

    try:
        event_process.delay(event_pk)
    except Exception as exc:  # noqa: BLE001 - broker down: the event is stored, the sweep runs it
        logger.warning("Could not enqueue webhook event %s (%s); the sweep will", event_pk, exc)


def _inbox_insert(event: dict[str, Any], received_at: datetime) -> int | None:
    """Store an event unless its id is already stored: one statement, safe under concurrent
    deliveries of the same event (the unique stripe_id decides). Returns the new row's id,
    or None for a duplicate. The ORM cannot return the id of an ON CONFLICT DO NOTHING insert.
    """
    meta = WebhookEvent._meta
    payload = meta.get_field("payload").get_db_prep_value(event, connection)
    received = meta.get_field("received_at").get_db_prep_value(received_at, connection)
    with connection.cursor() as cursor:
        # Plain SQL both PostgreSQL and SQLite (3.35+, the demo) understand.
        cursor.execute(
            f"INSERT INTO {meta.db_table} "  # noqa: S608 - our table name; values are parameters
            "(stripe_id, type, api_version, livemode, payload, status, received_at, attempts,"
            " last_error) VALUES (%s, %s, %s, %s, %s, %s, %s, 0, '')"
            " ON CONFLICT (stripe_id) DO NOTHING RETURNING id",
            [
                event["id"],
                event["type"],
                event.get("api_version") or "",
                bool(event.get("livemode")),
                payload,
                E.RECEIVED,
                received,
            ],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


def webhook_receive(*, payload: bytes, signature: str | None) -> tuple[WebhookEvent, bool]:
    """Verify and store an event once; schedule processing after commit.

    Raises gateway.SignatureError for a bad signature or stale timestamp (nothing stored) and
    lets database errors through (the view answers 5xx so that Stripe retries).
    """
    event = gateway.webhook_verify(payload, signature)
    if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise gateway.SignatureError("The event has no id or type")
    received_at = timezone.now()
    pk = _inbox_insert(event, received_at)
    if pk is not None:
        stored = WebhookEvent(
            pk=pk,
            stripe_id=event["id"],
            type=event["type"],
            api_version=event.get("api_version") or "",
            livemode=bool(event.get("livemode")),
            payload=event,
            status=E.RECEIVED,
            received_at=received_at,
        )
        transaction.on_commit(lambda: _enqueue(pk))
        return stored, True
    stored = WebhookEvent.objects.get(stripe_id=event["id"])
    if stored.status in {E.RECEIVED, E.RETRYING}:
        # Stripe redelivers what we have not confirmed processing of: give it another go.
        existing = stored.pk
        transaction.on_commit(lambda: _enqueue(existing))
    return stored, False


def _donation_id_for_charge(charge: dict[str, Any]) -> str:
    meta = charge.get("metadata") or {}
    if meta.get("donation_id"):
        return str(meta["donation_id"])
    pi = charge.get("payment_intent")
    pi_id = pi.get("id") if isinstance(pi, dict) else pi
    match = Donation.objects.filter(
        Q(charge_id=charge["id"]) | (Q(payment_intent_id=pi_id) if pi_id else Q(pk__in=[]))
    ).values_list("pk", flat=True)
    found = list(match[:1])
    if not found:
        raise DonationNotFound(f"No donation for charge {charge['id']} yet")
    return str(found[0])


def _on_checkout_session(obj: dict[str, Any], event_id: str) -> None:
    session = gateway.object_retrieve(
        "checkout.session", obj["id"], expand=["payment_intent.latest_charge.balance_transaction"]
    )
    donation_id = (session.get("metadata") or {}).get("donation_id") or session.get(
        "client_reference_id"
    )
    if not donation_id:
        raise DonationNotFound(f"Checkout session {obj['id']} carries no donation id")
    lifecycle.donation_session_sync(donation_id=donation_id, session=session, event_id=event_id)


def _on_charge(obj: dict[str, Any], event_id: str) -> None:
    charge = gateway.object_retrieve("charge", obj["id"], expand=["balance_transaction"])
    lifecycle.donation_charge_sync(
        donation_id=_donation_id_for_charge(charge), charge=charge, event_id=event_id
    )


def _on_dispute(obj: dict[str, Any], event_id: str) -> None:
    dispute = gateway.object_retrieve("dispute", obj["id"])
    charge_id = (
        dispute["charge"]["id"] if isinstance(dispute["charge"], dict) else dispute["charge"]
    )
    charge = gateway.object_retrieve("charge", charge_id, expand=["balance_transaction"])
    donation_id = _donation_id_for_charge(charge)
    # The charge first (a dispute proves the payment happened), then the dispute.
    lifecycle.donation_charge_sync(donation_id=donation_id, charge=charge, event_id=event_id)
    lifecycle.donation_dispute_sync(donation_id=donation_id, dispute=dispute, event_id=event_id)


def _invoice_subscription(invoice: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    details = ((invoice.get("parent") or {}).get("subscription_details")) or {}
    sub = details.get("subscription")
    return (sub.get("id") if isinstance(sub, dict) else sub), details.get("metadata") or {}


def _on_invoice_paid(obj: dict[str, Any], event_id: str) -> None:
    invoice = gateway.object_retrieve("invoice", obj["id"], expand=["payments"])
    subscription_id, metadata = _invoice_subscription(invoice)
    plan_id = metadata.get("donation_id")
    if not plan_id and subscription_id:
        plan_id = (
            Donation.objects.filter(subscription_id=subscription_id, parent__isnull=True)
            .values_list("pk", flat=True)
            .first()
        )
    if not plan_id:
        raise DonationNotFound(f"Invoice {obj['id']} belongs to no monthly gift we know")
    charge = None
    payments = (invoice.get("payments") or {}).get("data") or []
    for payment in payments:
        pi_ref = (payment.get("payment") or {}).get("payment_intent")
        pi_id = pi_ref.get("id") if isinstance(pi_ref, dict) else pi_ref
        if pi_id:
            pi = gateway.object_retrieve(
                "payment_intent", pi_id, expand=["latest_charge.balance_transaction"]
            )
            if isinstance(pi.get("latest_charge"), dict):
                charge = pi["latest_charge"]
            break
    lifecycle.instalment_record(plan_id=plan_id, invoice=invoice, charge=charge, event_id=event_id)


def _on_subscription_deleted(obj: dict[str, Any], event_id: str) -> None:
    sub = gateway.object_retrieve("subscription", obj["id"])
    plan_id = (sub.get("metadata") or {}).get("donation_id")
    if not plan_id:
        raise DonationNotFound(f"Subscription {obj['id']} carries no donation id")
    lifecycle.subscription_status_record(plan_id=plan_id, status=sub["status"], event_id=event_id)


HANDLERS: dict[str, Callable[[dict[str, Any], str], None]] = {
    "checkout.session.completed": _on_checkout_session,
    "checkout.session.async_payment_succeeded": _on_checkout_session,
    "checkout.session.async_payment_failed": _on_checkout_session,
    "checkout.session.expired": _on_checkout_session,
    "charge.succeeded": _on_charge,
    "charge.updated": _on_charge,
    "charge.refunded": _on_charge,
    "charge.dispute.created": _on_dispute,
    "charge.dispute.updated": _on_dispute,
    "charge.dispute.closed": _on_dispute,
    "invoice.paid": _on_invoice_paid,
    "customer.subscription.deleted": _on_subscription_deleted,
}
assert set(HANDLERS) == set(HANDLED_TYPES)


class ProcessingDeferred(Exception):
    """Processing should be tried again later (Stripe unreachable, gift not yet known)."""


def event_process(*, event_pk: int) -> str:
    """Process one stored event. Safe to run twice, concurrently, or after a crash: every
    state change below is idempotent and takes the donation's row lock."""
    event = WebhookEvent.objects.filter(pk=event_pk).first()
    if event is None or event.status in {E.PROCESSED, E.IGNORED}:
        return "skipped"
    WebhookEvent.objects.filter(pk=event_pk).update(attempts=F("attempts") + 1)
    handler = HANDLERS.get(event.type)
    if handler is None:
        WebhookEvent.objects.filter(pk=event_pk).exclude(status=E.PROCESSED).update(
            status=E.IGNORED, processed_at=timezone.now()
        )
        return "ignored"
    obj = event.payload.get("data", {}).get("object", {})
    try:
        # The state change and "processed" commit together (one commit, no window between
        # them). Row locks are taken only after the Stripe calls, never across them.
        with transaction.atomic():
            handler(obj, event.stripe_id)
            WebhookEvent.objects.filter(pk=event_pk).update(
                status=E.PROCESSED, processed_at=timezone.now(), last_error=""
            )
    except (DonationNotFound, gateway.GatewayError) as exc:
        retryable = isinstance(exc, DonationNotFound) or getattr(exc, "retryable", False)
        WebhookEvent.objects.filter(pk=event_pk).exclude(status=E.PROCESSED).update(
            status=E.RETRYING if retryable else E.FAILED, last_error=str(exc)[:2000]
        )
        if retryable:
            raise ProcessingDeferred(str(exc)) from exc
        logger.error("Webhook event %s failed: %s", event.stripe_id, exc)
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
