"""Donation state changes. Each one locks the donation row, re-reads it, applies only what
fits its current state (recording a no-op otherwise) and moves the project's funding totals
in the same transaction.

Lifecycle: pending -> succeeded -> (refunded | partially_refunded | disputed -> succeeded on a
won dispute, refunded on a lost one); pending -> failed | expired.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar
from uuid import UUID

from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from djmoney.money import Money

from donations.locks import advisory_xact_lock
from donations.models import Donation, TransitionLog
from donations.money import from_minor, quantum, to_minor
from donations.services.matching import match_sync
from donations.services.valuation import gift_value, kept_share
from projects.models import FundingTotals

logger = logging.getLogger(__name__)
Fn = TypeVar("Fn", bound=Callable[..., Any])

S = Donation.Status
# An open dispute withdraws the money until it is won, so it does not count meanwhile.
COUNTING = {S.SUCCEEDED, S.PARTIALLY_REFUNDED}
OPEN_DISPUTE = {"warning_needs_response", "warning_under_review", "needs_response", "under_review"}
PAID_DISPUTE_OUTCOME = {"won", "warning_closed"}
CLOSED_DISPUTE = {*PAID_DISPUTE_OUTCOME, "lost"}


class DonationNotFound(Exception):
    """An event refers to a gift we cannot (yet) match; it is retried later."""


@dataclass(frozen=True)
class PaymentFacts:
    """What Stripe says about the money, from a charge (with its balance transaction)."""

    payment_intent_id: str | None = None
    charge_id: str | None = None
    charged: Money | None = None
    refunded: Money | None = None
    balance_transaction_id: str | None = None
    settled: Money | None = None
    fee: Money | None = None
    net: Money | None = None
    exchange_rate: Decimal | None = None
    paid: bool = False

    @classmethod
    def from_charge(cls, charge: dict[str, Any]) -> PaymentFacts:
        currency = charge["currency"]
        bt = charge.get("balance_transaction")
        pi = charge.get("payment_intent")
        facts: dict[str, Any] = {
            "payment_intent_id": pi["id"] if isinstance(pi, dict) else pi,
            "charge_id": charge["id"],
            "charged": from_minor(charge["amount"], currency),
            "refunded": from_minor(charge.get("amount_refunded") or 0, currency),
            "paid": bool(charge.get("paid")) and charge.get("status") == "succeeded",
        }
        if isinstance(bt, dict):
            bt_currency = bt["currency"]
            rate = bt.get("exchange_rate")
            facts.update(
                balance_transaction_id=bt["id"],
                settled=from_minor(bt["amount"], bt_currency),
                fee=from_minor(bt["fee"], bt_currency),
                net=from_minor(bt["net"], bt_currency),
                exchange_rate=Decimal(str(rate)) if rate is not None else None,
            )
        elif isinstance(bt, str):
            facts["balance_transaction_id"] = bt
        return cls(**facts)


# Every transition is one transaction. Inside a caller's transaction (event processing marks
# the event processed in the same commit) it adds no savepoint: any error rolls back the
# whole unit, which is what the caller retries.
def transition(func: Fn) -> Fn:
    return transaction.atomic(savepoint=False)(func)


def _lock(donation_id: UUID | str) -> Donation:
    try:
        return (
            Donation.objects.select_for_update(of=("self",))
            .select_related("project")
            .get(pk=donation_id)
        )
    except (Donation.DoesNotExist, ValueError) as exc:
        raise DonationNotFound(f"No donation {donation_id}") from exc


def _log(d: Donation, action: str, before: str, applied: bool, note: str, event_id: str) -> None:
    TransitionLog.objects.create(
        donation=d,
        action=action,
        from_status=before,
        to_status=d.status,
        applied=applied,
        note=note[:300],
        event_id=event_id,
    )


def contribution(d: Donation) -> tuple[Decimal, bool]:
    """What a gift adds to its project, in the project's currency, and whether that is
    provisional. Counts the gift part of the settled money (not a fee the donor covered),
    net of refunds; nothing unless the gift succeeded; nothing after a lost dispute."""
    if d.status not in COUNTING:
        return Decimal(0), False
    gross, provisional = gift_value(d)
    if provisional or gross <= 0:
        return Decimal(0), provisional  # counted once Stripe reports the settled amount
    value = max(gross * kept_share(d), Decimal(0))
    return value.quantize(quantum(d.project.currency), ROUND_HALF_UP), False


def _donor_lock(d: Donation) -> None:
    """Serialise gifts from one donor to one project (released at commit), so "is this a new
    donor?" is answered once per donor even under concurrency."""
    advisory_xact_lock(d.project_id, d.donor_email)  # the key workers have always used


def _recount(d: Donation) -> None:
    """Move the project's totals by the change in this gift's contribution and match, in
    the same transaction. Incremental, so a busy project's gifts are never re-summed.

    Lock order is always donation, donor, pools, totals, so two gifts cannot deadlock; the
    totals row (which every gift to the project shares) is locked by the last statement
    before commit, one relative UPDATE, so it is held as briefly as possible.
    """
    new, provisional = contribution(d)
    old, was_provisional = d.counted, d.counted_provisional
    d.counted, d.counted_provisional = new, provisional
    gift_change = int(new > 0) - int(old > 0)
    donor_change = 0
    if gift_change:
        _donor_lock(d)
        others = (
            Donation.objects.filter(
                project_id=d.project_id, donor_email=d.donor_email, counted__gt=0
            )
            .exclude(pk=d.pk)
            .exists()
        )
        donor_change = 0 if others else gift_change
    matched_change = match_sync(donation=d)  # may note on d that the pools were consulted
    d.save()
    if not (new != old or matched_change or gift_change or provisional != was_provisional):
        return
    changes: dict[str, Any] = {
        "raised": F("raised") + (new - old),
        "matched": F("matched") + matched_change,
        "gift_count": F("gift_count") + gift_change,
        "donor_count": F("donor_count") + donor_change,
        "updated_at": timezone.now(),
    }
    if provisional != was_provisional:
        # Evaluated by the UPDATE itself, with the row locked.
        changes["provisional"] = Exists(
            Donation.objects.filter(project_id=OuterRef("project_id"), counted_provisional=True)
        )
    if not FundingTotals.objects.filter(project_id=d.project_id).update(**changes):
        currency = d.project.currency
        FundingTotals.objects.get_or_create(
            project_id=d.project_id,
            defaults={"raised": Money(0, currency), "matched": Money(0, currency)},
        )
        FundingTotals.objects.filter(project_id=d.project_id).update(**changes)


def _apply_facts(d: Donation, facts: PaymentFacts) -> list[str]:
    """Record Stripe's figures; returns review notes (amount mismatch)."""
    notes: list[str] = []
    if facts.payment_intent_id and not d.payment_intent_id:
        d.payment_intent_id = facts.payment_intent_id
    if facts.charge_id and not d.charge_id:
        d.charge_id = facts.charge_id
    if facts.charged is not None:
        d.charged = facts.charged
        expected = d.total_charge
        if str(facts.charged.currency) != str(expected.currency) or to_minor(
            facts.charged
        ) != to_minor(expected):
            notes.append(f"Stripe charged {facts.charged}, the donation asked for {expected}.")
    if facts.refunded is not None and facts.refunded.amount > d.refunded.amount:
        # Refunds only grow: a stale copy of the charge must never shrink them.
        d.refunded = facts.refunded
    if facts.balance_transaction_id:
        d.balance_transaction_id = facts.balance_transaction_id
    if facts.settled is not None:
        d.settled, d.stripe_fee, d.net = facts.settled, facts.fee, facts.net
        d.exchange_rate = facts.exchange_rate
    return notes


def _flag(d: Donation, notes: list[str]) -> None:
    for note in notes:
        if note not in d.review_reason:
            d.needs_review = True
            d.review_reason = (d.review_reason + "\n" + note).strip()
            logger.warning("Donation %s flagged for finance: %s", d.pk, note)


def _refund_status(d: Donation) -> None:
    """After refunds changed: refunded, partially refunded or (unchanged) succeeded."""
    if d.status == S.DISPUTED or d.refunded.amount <= 0:
        return
    charged = d.charged if d.charged is not None else d.total_charge
    if d.refunded.amount >= charged.amount:
        d.status = S.REFUNDED
    else:
        d.status = S.PARTIALLY_REFUNDED
    d.refunded_at = d.refunded_at or timezone.now()


def _mark_succeeded(d: Donation) -> bool:
    """The status change alone (callers recount and log once); receipt after commit."""
    if d.status not in {S.PENDING, S.FAILED, S.EXPIRED}:
        return False
    # FAILED/EXPIRED too: money that Stripe says moved is never ignored; it is flagged.
    if d.status != S.PENDING:
        _flag(d, [f"Stripe reports a payment for a gift we had marked {d.status}."])
    d.status = S.SUCCEEDED
    d.succeeded_at = timezone.now()
    _refund_status(d)
    from donations.tasks import receipt_send, tribute_notice_send

    donation_id = str(d.pk)
    # robust: a broker outage must not fail the committed transition; receipts_catch_up
    # (beat) sends whatever was not queued.
    transaction.on_commit(lambda: receipt_send.delay(donation_id), robust=True)
    if d.tribute_notify_email and d.tribute_name:
        transaction.on_commit(lambda: tribute_notice_send.delay(donation_id), robust=True)
    return True


def _succeed(d: Donation, facts: PaymentFacts, event_id: str, action: str) -> bool:
    before = d.status
    notes = _apply_facts(d, facts)
    _flag(d, notes)
    applied = _mark_succeeded(d)
    _recount(d)
    _log(d, action, before, applied, "; ".join(notes), event_id)
    return applied


@transition
def donation_succeed(*, donation_id: UUID | str, facts: PaymentFacts, event_id: str = "") -> bool:
    """Mark a gift paid. Idempotent: a second call only refreshes Stripe's figures."""
    return _succeed(_lock(donation_id), facts, event_id, "succeed")


@transition
def donation_fail(*, donation_id: UUID | str, reason: str, event_id: str = "") -> bool:
    d = _lock(donation_id)
    before = d.status
    applied = d.status == S.PENDING
    if applied:
        d.status, d.failed_at = S.FAILED, timezone.now()
        d.save()
    _log(d, "fail", before, applied, reason, event_id)
    return applied


@transition
def donation_expire(*, donation_id: UUID | str, event_id: str = "") -> bool:
    d = _lock(donation_id)
    before = d.status
    applied = d.status == S.PENDING
    if applied:
        d.status, d.expired_at = S.EXPIRED, timezone.now()
        d.save()
    _log(d, "expire", before, applied, "checkout session expired", event_id)
    return applied


@transition
def donation_charge_sync(
    *, donation_id: UUID | str, charge: dict[str, Any], event_id: str = ""
) -> None:
    """Apply a charge as Stripe has it now: payment, settlement figures and refunds.

    Works from any state and in any order: a refund seen before the checkout's completion
    first records the payment (the charge proves it) and then the refund.
    """
    d = _lock(donation_id)
    facts = PaymentFacts.from_charge(charge)
    before = d.status
    refunded_before = d.refunded.amount
    notes = _apply_facts(d, facts)
    _flag(d, notes)
    succeeded = facts.paid and _mark_succeeded(d)
    if d.refunded.amount != refunded_before:
        _refund_status(d)
    _recount(d)
    changed = d.status != before or d.refunded.amount != refunded_before
    action = "succeed (from charge)" if succeeded else "charge sync"
    note = "; ".join([*notes, f"refunded {d.refunded}"])
    _log(d, action, before, changed, note, event_id)


@transition
def donation_dispute_sync(
    *, donation_id: UUID | str, dispute: dict[str, Any], event_id: str = ""
) -> None:
    """Open dispute: disputed. Won: back to succeeded (or partially refunded). Lost: refunded."""
    d = _lock(donation_id)
    before = d.status
    status = dispute["status"]
    if (
        d.dispute_id == dispute["id"]
        and d.dispute_status in CLOSED_DISPUTE
        and status in OPEN_DISPUTE
    ):
        # Stripe closes a dispute for good. An open status here is an older view of it
        # (fetched before the close, applied after it by a slower worker): keep the close.
        _log(d, f"dispute {status}", before, False, f"{dispute['id']} already closed", event_id)
        return
    d.dispute_id, d.dispute_status = dispute["id"], status
    if status in OPEN_DISPUTE:
        if d.status in COUNTING:
            d.status = S.DISPUTED
            d.disputed_at = d.disputed_at or timezone.now()
    elif status in PAID_DISPUTE_OUTCOME:
        if d.status == S.DISPUTED:
            d.status = S.SUCCEEDED
            _refund_status(d)
        d.dispute_closed_at = d.dispute_closed_at or timezone.now()
    elif status == "lost":
        if d.status in COUNTING or d.status == S.DISPUTED:
            d.status = S.REFUNDED
            d.refunded_at = d.refunded_at or timezone.now()
        d.dispute_closed_at = d.dispute_closed_at or timezone.now()
    _recount(d)
    _log(d, f"dispute {status}", before, d.status != before, dispute["id"], event_id)


@transition
def donation_session_sync(
    *, donation_id: UUID | str, session: dict[str, Any], event_id: str = ""
) -> None:
    """Apply a Checkout Session as Stripe has it now (completed, async result or expired)."""
    d = _lock(donation_id)
    before = d.status
    d.checkout_session_id = d.checkout_session_id or session["id"]
    d.customer_id = d.customer_id or (_id(session.get("customer")) or "")
    d.subscription_id = d.subscription_id or (_id(session.get("subscription")) or "")
    if session.get("amount_total") is not None:
        reported = from_minor(session["amount_total"], session["currency"])
        if to_minor(reported) != to_minor(d.total_charge) or str(reported.currency) != str(
            d.total_charge.currency
        ):
            _flag(d, [f"Checkout total {reported} differs from the donation {d.total_charge}."])
    if session.get("status") == "expired":
        d.save()
        if d.status == S.PENDING:
            d.status, d.expired_at = S.EXPIRED, timezone.now()
            d.save()
        _log(d, "expire", before, d.status != before, "checkout session expired", event_id)
        return
    if session.get("status") != "complete":
        d.save()
        _log(d, "session sync", before, False, f"session {session.get('status')}", event_id)
        return

    if session.get("mode") == "subscription":
        d.invoice_id = d.invoice_id or _id(session.get("invoice"))
        if session.get("payment_status") == "paid":
            charged = from_minor(session["amount_total"], session["currency"])
            _succeed(
                d, PaymentFacts(charged=charged, paid=True), event_id, "succeed (subscription)"
            )
        else:
            d.save()
        return

    pi = session.get("payment_intent")
    pi_status = pi.get("status") if isinstance(pi, dict) else None
    charge = pi.get("latest_charge") if isinstance(pi, dict) else None
    if session.get("payment_status") in {"paid", "no_payment_required"} or pi_status == "succeeded":
        facts = (
            PaymentFacts.from_charge(charge)
            if isinstance(charge, dict)
            else PaymentFacts(payment_intent_id=_id(pi), paid=True)
        )
        _succeed(d, facts, event_id, "succeed")
        return
    if isinstance(pi, dict):
        d.payment_intent_id = d.payment_intent_id or pi["id"]
    if pi_status in {"requires_payment_method", "canceled"}:
        d.save()
        if d.status == S.PENDING:
            d.status, d.failed_at = S.FAILED, timezone.now()
            d.save()
        _log(d, "fail", before, d.status != before, "asynchronous payment failed", event_id)
        return
    d.save()
    _log(d, "session sync", before, False, "awaiting asynchronous payment", event_id)


@transition
def instalment_record(
    *,
    plan_id: UUID | str,
    invoice: dict[str, Any],
    charge: dict[str, Any] | None,
    event_id: str = "",
) -> Donation:
    """A paid monthly invoice: the first one is the plan's own gift, each later one a new
    succeeded donation linked to the plan. One donation per invoice (unique invoice id)."""
    plan = _lock(plan_id)
    # The checkout's completion may come after its invoices (or never): link the plan from
    # the invoice too (the pinned API version has it under parent.subscription_details).
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    if not plan.subscription_id and _id(details.get("subscription")):
        plan.subscription_id = str(_id(details.get("subscription")))
        plan.customer_id = plan.customer_id or (_id(invoice.get("customer")) or "")
        plan.save(update_fields=["subscription_id", "customer_id", "updated_at"])
    if invoice.get("billing_reason") == "subscription_create" or plan.invoice_id == invoice["id"]:
        target = plan
        target.invoice_id = target.invoice_id or invoice["id"]
    else:
        # Locked plan row serialises concurrent deliveries of the same invoice.
        target = Donation.objects.filter(
            invoice_id=invoice["id"]
        ).first() or Donation.objects.create(
            project=plan.project,
            parent=plan,
            frequency=Donation.Frequency.MONTHLY,
            amount=plan.amount,
            fee_covered=plan.fee_covered,
            cover_fee=plan.cover_fee,
            donor_name=plan.donor_name,
            donor_email=plan.donor_email,
            anonymous=plan.anonymous,
            show_amount=plan.show_amount,
            message="",
            tribute_type=plan.tribute_type,
            tribute_name=plan.tribute_name,
            subscription_id=plan.subscription_id,
            customer_id=plan.customer_id,
            invoice_id=invoice["id"],
        )
        target = _lock(target.pk)
    charged = from_minor(invoice["amount_paid"], invoice["currency"])
    facts = PaymentFacts.from_charge(charge) if charge else PaymentFacts(charged=charged, paid=True)
    _succeed(target, facts, event_id, "succeed (instalment)")
    return target


@transition
def subscription_status_record(*, plan_id: UUID | str, status: str, event_id: str = "") -> None:
    d = _lock(plan_id)
    before = d.status
    d.subscription_status = status
    d.save()
    _log(d, f"subscription {status}", before, False, "", event_id)


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return value or None
