"""Donation state changes, on plain facts from the payment provider. Each one locks the
donation row, re-reads it, applies only what fits its current state (recording a no-op
otherwise) and moves the project's funding totals in the same transaction.

Lifecycle: pending -> succeeded -> (refunded | partially_refunded | disputed -> succeeded on a
won dispute, refunded on a lost one); pending -> failed | expired.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from donations.models import Donation, TransitionLog
from donations.money import to_minor
from donations.providers.facts import DisputeFact, InvoiceFact, PaymentFact, SessionFact
from donations.services import enqueue, ledger, totals
from donations.services.matching import match_sync
from donations.services.totals import COUNTING

logger = logging.getLogger(__name__)
Fn = TypeVar("Fn", bound=Callable[..., Any])

S = Donation.Status
OPEN_DISPUTE = {"warning_needs_response", "warning_under_review", "needs_response", "under_review"}
# The pinned API version's other statuses: a lost dispute can be appealed (the money stays
# withdrawn meanwhile) and end won after all; "prevented" never took the money.
APPEAL = {"appeal_needs_response", "appeal_under_review"}
PAID_DISPUTE_OUTCOME = {"won", "warning_closed", "prevented"}
CLOSED_DISPUTE = {*PAID_DISPUTE_OUTCOME, "lost"}


class DonationNotFound(Exception):
    """An event refers to a gift we cannot (yet) match; it is retried later."""


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


def _recount(
    d: Donation, *, payment: PaymentFact | None = None, dispute: DisputeFact | None = None
) -> None:
    """Write the ledger rows of what moved, then move the project's totals by the change in
    this gift's contribution and match, all in the same transaction (lock order donation,
    donor, pools, totals)."""
    batch = ledger.LedgerBatch(d)
    if payment is not None:
        ledger.payment_record(batch, payment)
    refunded = batch.refunded()
    if refunded != d.refunded.amount:
        currency = d.charged.currency if d.charged is not None else d.amount.currency
        d.refunded = Money(refunded, currency)
        _refund_status(d)
    if dispute is not None:
        ledger.dispute_record(batch, dispute, withdrawn=not dispute.status.startswith("warning_"))
    change = totals.gift_recount(d)  # may take the donor lock
    batch.write(raised_change=change.raised)
    figures = ledger.donation_figures(d)
    settles_in = settings.DONATION_SETTLEMENT_CURRENCY
    if figures.fee is not None:
        d.stripe_fee = Money(figures.fee, settles_in)
    if figures.net is not None:
        d.net = Money(figures.net, settles_in)
    matched = match_sync(donation=d)  # locks the pools; may note that they were consulted
    d.save()
    totals.totals_move(donation=d, change=change, matched=matched)


def _apply_facts(d: Donation, facts: PaymentFact) -> list[str]:
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
    # Refunds are the ledger's (one row per refund id, so a stale copy of the charge can
    # neither shrink nor double them); the fee and net figures are its sums too.
    if facts.balance_transaction_id:
        d.balance_transaction_id = facts.balance_transaction_id
    if facts.settled is not None:
        d.settled, d.exchange_rate = facts.settled, facts.exchange_rate
    return notes


def _flag(d: Donation, notes: list[str]) -> None:
    for note in notes:
        if note not in d.review_reason:
            d.needs_review = True
            d.review_reason = (d.review_reason + "\n" + note).strip()
            logger.warning("Donation %s flagged for finance: %s", d.pk, note)


def _refund_status(d: Donation) -> None:
    """After refunds changed: refunded, partially refunded or succeeded (a failed refund
    gives the money back)."""
    if d.status == S.DISPUTED or d.dispute_status == "lost":
        return
    if d.refunded.amount <= 0:
        if d.status in {S.REFUNDED, S.PARTIALLY_REFUNDED}:
            d.status = S.SUCCEEDED
        return
    charged = d.charged if d.charged is not None else d.total_charge
    if d.refunded.amount >= charged.amount:
        d.status = S.REFUNDED
    else:
        d.status = S.PARTIALLY_REFUNDED
    d.refunded_at = d.refunded_at or timezone.now()


def _mark_succeeded(d: Donation, paid_at: datetime | None) -> bool:
    """The status change alone (callers recount and log once); receipt after commit.

    The gift succeeded when the donor paid, by Stripe's clock (the matching window and the
    receipt's date follow it), not when we processed the event."""
    if d.status not in {S.PENDING, S.FAILED, S.EXPIRED}:
        return False
    # FAILED/EXPIRED too: money that Stripe says moved is never ignored; it is flagged
    # (unless it is a monthly instalment whose failed attempt Stripe retried).
    retried_instalment = d.status == S.FAILED and bool(d.invoice_id)
    if d.status != S.PENDING and not retried_instalment:
        _flag(d, [f"Stripe reports a payment for a gift we had marked {d.status}."])
    d.status = S.SUCCEEDED
    d.succeeded_at = paid_at or timezone.now()
    # No receipt number here: it is issued with the receipt, in a transaction of its own
    # (receipt_numbers): a success locks no row that gifts to other projects write, but
    # the pools they share (docs/capacity.md).
    _refund_status(d)
    # A broker outage must not fail the committed transition; receipts_catch_up (beat)
    # sends whatever was not queued.
    enqueue.enqueue_on_commit(enqueue.RECEIPT_SEND, str(d.pk))
    if d.tribute_notify_email and d.tribute_name:
        enqueue.enqueue_on_commit(enqueue.TRIBUTE_NOTICE_SEND, str(d.pk))
    return True


def _succeed(d: Donation, facts: PaymentFact, event_id: str, action: str) -> bool:
    before = d.status
    notes = _apply_facts(d, facts)
    _flag(d, notes)
    applied = _mark_succeeded(d, facts.paid_at)
    _recount(d, payment=facts)
    _log(d, action, before, applied, "; ".join(notes), event_id)
    return applied


@transition
def donation_succeed(*, donation_id: UUID | str, facts: PaymentFact, event_id: str = "") -> bool:
    """Mark a gift paid. Idempotent: a second call only refreshes Stripe's figures."""
    return _succeed(_lock(donation_id), facts, event_id, "succeed")


def _fail_if_pending(d: Donation, status: str) -> bool:
    """End a gift that is still pending as failed or expired (both final, no money moved),
    stamped now and saved; a gift in any other state is left as it is (a late or replayed
    event must not undo a payment). Returns whether it applied."""
    if d.status != S.PENDING:
        return False
    d.status = status
    if status == S.EXPIRED:
        d.expired_at = timezone.now()
    else:
        d.failed_at = timezone.now()
    d.save()
    return True


@transition
def donation_fail(*, donation_id: UUID | str, reason: str, event_id: str = "") -> bool:
    d = _lock(donation_id)
    before = d.status
    applied = _fail_if_pending(d, S.FAILED)
    _log(d, "fail", before, applied, reason, event_id)
    return applied


@transition
def donation_expire(*, donation_id: UUID | str, event_id: str = "") -> bool:
    d = _lock(donation_id)
    before = d.status
    applied = _fail_if_pending(d, S.EXPIRED)
    _log(d, "expire", before, applied, "checkout session expired", event_id)
    return applied


def _payment_apply(d: Donation, facts: PaymentFact) -> tuple[list[str], bool]:
    notes = _apply_facts(d, facts)
    _flag(d, notes)
    return notes, facts.paid and _mark_succeeded(d, facts.paid_at)


@transition
def donation_charge_sync(
    *, donation_id: UUID | str, payment: PaymentFact, event_id: str = ""
) -> None:
    """Apply a charge as the provider has it now: payment, settlement figures and refunds.

    Works from any state and in any order: a refund seen before the checkout's completion
    first records the payment (the charge proves it) and then the refund.
    """
    d = _lock(donation_id)
    before = d.status
    refunded_before = d.refunded.amount
    notes, succeeded = _payment_apply(d, payment)
    _recount(d, payment=payment)
    changed = d.status != before or d.refunded.amount != refunded_before
    action = "succeed (from charge)" if succeeded else "charge sync"
    note = "; ".join([*notes, f"refunded {d.refunded}"])
    _log(d, action, before, changed, note, event_id)


@transition
def donation_dispute_sync(
    *, donation_id: UUID | str, dispute: DisputeFact, event_id: str = ""
) -> None:
    """Open dispute: disputed. Won: back to succeeded (or partially refunded). Lost: refunded.

    One transition with the disputed charge (a dispute proves the payment happened): the
    charge's facts first, then the dispute's, one recount, so the locks are taken once in
    the documented order (donation, donor, pools, totals).
    """
    d = _lock(donation_id)
    before = d.status
    _payment_apply(d, dispute.payment)
    status = dispute.status
    if d.dispute_id == dispute.id and d.dispute_status in CLOSED_DISPUTE and status in OPEN_DISPUTE:
        # Stripe closes a dispute for good. An open status here is an older view of it
        # (fetched before the close, applied after it by a slower worker): keep the close.
        _recount(d, payment=dispute.payment)
        _log(d, f"dispute {status}", before, False, f"{dispute.id} already closed", event_id)
        return
    lost_before = d.dispute_id == dispute.id and d.dispute_status in {"lost", *APPEAL}
    d.dispute_id, d.dispute_status = dispute.id, status
    if status in APPEAL:
        pass  # still withdrawn: the gift stays as the lost dispute left it
    elif status in OPEN_DISPUTE:
        if d.status in COUNTING:
            d.status = S.DISPUTED
            d.disputed_at = d.disputed_at or timezone.now()
    elif status in PAID_DISPUTE_OUTCOME:
        if d.status == S.DISPUTED or (d.status == S.REFUNDED and lost_before):
            d.status = S.SUCCEEDED  # won (also on appeal, after it was lost)
            _refund_status(d)
        d.dispute_closed_at = d.dispute_closed_at or timezone.now()
    elif status == "lost":
        if d.status in COUNTING or d.status == S.DISPUTED:
            d.status = S.REFUNDED
            d.refunded_at = d.refunded_at or timezone.now()
        d.dispute_closed_at = d.dispute_closed_at or timezone.now()
    _recount(d, payment=dispute.payment, dispute=dispute)
    _log(d, f"dispute {status}", before, d.status != before, dispute.id, event_id)


@transition
def donation_session_sync(
    *, donation_id: UUID | str, session: SessionFact, event_id: str = ""
) -> None:
    """Apply a checkout session as the provider has it now (completed, async result or
    expired)."""
    d = _lock(donation_id)
    before = d.status
    d.checkout_session_id = d.checkout_session_id or session.id
    d.customer_id = d.customer_id or (session.customer_id or "")
    d.subscription_id = d.subscription_id or (session.subscription_id or "")
    if session.amount_total is not None:
        reported = session.amount_total
        if to_minor(reported) != to_minor(d.total_charge) or str(reported.currency) != str(
            d.total_charge.currency
        ):
            _flag(d, [f"Checkout total {reported} differs from the donation {d.total_charge}."])
    if session.status == "expired":
        d.save()
        _fail_if_pending(d, S.EXPIRED)
        _log(d, "expire", before, d.status != before, "checkout session expired", event_id)
        return
    if session.status != "complete":
        d.save()
        _log(d, "session sync", before, False, f"session {session.status}", event_id)
        return

    if session.mode == "subscription":
        d.invoice_id = d.invoice_id or session.invoice_id
        if session.payment_status == "paid" and session.amount_total is not None:
            facts = PaymentFact(charged=session.amount_total, paid=True)
            _succeed(d, facts, event_id, "succeed (subscription)")
            return
        d.save()
        if session.payment_intent_status in {"requires_payment_method", "canceled"}:
            # The first monthly payment failed (or Stripe gave the subscription up): a final
            # state, as for a one-time gift; no later instalment can follow.
            _fail_if_pending(d, S.FAILED)
            _log(d, "fail", before, d.status != before, "first monthly payment failed", event_id)
            return
        _log(d, "session sync", before, False, "awaiting the first monthly payment", event_id)
        return

    pi_status = session.payment_intent_status
    if session.payment_status in {"paid", "no_payment_required"} or pi_status == "succeeded":
        facts = session.payment or PaymentFact(
            payment_intent_id=session.payment_intent_id, paid=True
        )
        _succeed(d, facts, event_id, "succeed")
        return
    if pi_status is not None and session.payment_intent_id:
        d.payment_intent_id = d.payment_intent_id or session.payment_intent_id
    if pi_status in {"requires_payment_method", "canceled"}:
        d.save()
        _fail_if_pending(d, S.FAILED)
        _log(d, "fail", before, d.status != before, "asynchronous payment failed", event_id)
        return
    d.save()
    _log(d, "session sync", before, False, "awaiting asynchronous payment", event_id)


@transition
def instalment_record(
    *,
    plan_id: UUID | str,
    invoice: InvoiceFact,
    event_id: str = "",
) -> Donation | None:
    """A paid monthly invoice: the first one is the plan's own gift, each later one a new
    succeeded donation linked to the plan. One donation per invoice (unique invoice id)."""
    plan = _lock(plan_id)
    # The checkout's completion may come after its invoices (or never): link the plan from
    # the invoice too.
    if not plan.subscription_id and invoice.subscription_id:
        plan.subscription_id = invoice.subscription_id
        plan.customer_id = plan.customer_id or (invoice.customer_id or "")
        plan.save(update_fields=["subscription_id", "customer_id", "updated_at"])
    if invoice.status != "paid" or invoice.amount_paid.amount <= 0:
        # A draft, open or void invoice, or one that took nothing: no money moved yet.
        note = f"invoice {invoice.id} {invoice.status}, {invoice.amount_paid} paid"
        _log(plan, "instalment not paid", plan.status, False, note, event_id)
        return None
    target = _instalment_for(plan, invoice)
    facts = invoice.payment or PaymentFact(charged=invoice.amount_paid, paid=True)
    _succeed(target, facts, event_id, "succeed (instalment)")
    return target


def _instalment_for(plan: Donation, invoice: InvoiceFact) -> Donation:
    """The gift an invoice pays: the plan's own for its first invoice, else one instalment
    per invoice (created once; the locked plan row serialises concurrent deliveries)."""
    if invoice.billing_reason == "subscription_create" or plan.invoice_id == invoice.id:
        target = plan
        target.invoice_id = target.invoice_id or invoice.id
    else:
        # Locked plan row serialises concurrent deliveries of the same invoice.
        target = Donation.objects.filter(invoice_id=invoice.id).first() or Donation.objects.create(
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
            referral_channel=plan.referral_channel,
            referral_code=plan.referral_code,
            subscription_id=plan.subscription_id,
            customer_id=plan.customer_id,
            invoice_id=invoice.id,
            language=plan.language,  # its receipt in the language the plan was made in
        )
        target = _lock(target.pk)
    return target


@transition
def instalment_fail(*, plan_id: UUID | str, invoice: InvoiceFact, event_id: str = "") -> None:
    """Stripe could not collect an instalment: it is recorded failed (Stripe retries; a
    later paid invoice still succeeds it). The plan's first invoice failing leaves the plan
    pending: its checkout decides."""
    plan = _lock(plan_id)
    if invoice.billing_reason == "subscription_create" or plan.invoice_id == invoice.id:
        _log(plan, "instalment failed", plan.status, False, f"invoice {invoice.id}", event_id)
        return
    target = _instalment_for(plan, invoice)
    before = target.status
    applied = _fail_if_pending(target, S.FAILED)
    _log(target, "instalment failed", before, applied, f"invoice {invoice.id}", event_id)


@transition
def subscription_status_record(*, plan_id: UUID | str, status: str, event_id: str = "") -> None:
    d = _lock(plan_id)
    before = d.status
    d.subscription_status = status
    d.save()
    _log(d, f"subscription {status}", before, False, "", event_id)
