"""Stripe's JSON shapes (pinned API version) turned into plain domain facts. The only place
that knows which Stripe field means what; no network, no ``stripe`` import."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from donations.money import from_minor
from donations.providers.facts import (
    BalanceFact,
    DisputeFact,
    EventRef,
    InvoiceFact,
    PaymentFact,
    PayoutFact,
    RefundFact,
    SessionFact,
    SubscriptionFact,
)

Json = dict[str, Any]


def ref_id(value: Any) -> str | None:
    """An expandable field: the id whether Stripe sent the id or the expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


def moment(ts: Any) -> datetime | None:
    return datetime.fromtimestamp(int(ts), tz=UTC) if ts else None


def balance_fact(bt: Json) -> BalanceFact:
    currency = bt["currency"]
    rate = bt.get("exchange_rate")
    source = bt.get("source")
    source_type, charge_id, donation_id = "", "", ""
    if isinstance(source, dict):
        source_type = str(source.get("object") or "")
        if source_type == "charge":
            charge_id = source["id"]
            donation_id = str((source.get("metadata") or {}).get("donation_id") or "")
        else:  # a refund or dispute names its charge
            charge_id = ref_id(source.get("charge")) or ""
    return BalanceFact(
        id=bt["id"],
        amount=from_minor(bt["amount"], currency),
        fee=from_minor(bt.get("fee") or 0, currency),
        net=from_minor(bt["net"], currency),
        exchange_rate=Decimal(str(rate)) if rate is not None else None,
        type=bt.get("type") or "",
        reporting_category=bt.get("reporting_category") or "",
        source_id=ref_id(source) or "",
        source_type=source_type,
        charge_id=charge_id,
        donation_id=donation_id,
        created=moment(bt.get("created")),
        available_on=moment(bt.get("available_on")),
        description=bt.get("description") or "",
    )


def payment_fact(charge: Json) -> PaymentFact:
    """A charge, with its balance transaction when it was expanded."""
    currency = charge["currency"]
    bt = charge.get("balance_transaction")
    meta = charge.get("metadata") or {}
    listed = charge.get("refunds")
    refunds = None
    if isinstance(listed, dict) and isinstance(listed.get("data"), list):
        refunds = tuple(refund_fact(r) for r in listed["data"] if isinstance(r, dict))
    return PaymentFact(
        payment_intent_id=ref_id(charge.get("payment_intent")),
        charge_id=charge["id"],
        donation_id=str(meta["donation_id"]) if meta.get("donation_id") else None,
        charged=from_minor(charge["amount"], currency),
        refunded=from_minor(charge.get("amount_refunded") or 0, currency),
        # Only captured money counts: an authorised, uncaptured charge may never be taken.
        paid=bool(charge.get("paid"))
        and charge.get("status") == "succeeded"
        and bool(charge.get("captured", True)),
        paid_at=moment(charge.get("created")),
        balance_transaction_id=ref_id(bt),
        balance=balance_fact(bt) if isinstance(bt, dict) else None,
        refunds=refunds,
    )


def session_fact(session: Json) -> SessionFact:
    """A Checkout Session, with payment_intent.latest_charge.balance_transaction expanded."""
    pi = session.get("payment_intent")
    charge = pi.get("latest_charge") if isinstance(pi, dict) else None
    total = session.get("amount_total")
    meta = session.get("metadata") or {}
    donation_id = meta.get("donation_id") or session.get("client_reference_id")
    return SessionFact(
        id=session["id"],
        donation_id=str(donation_id) if donation_id else None,
        mode=session.get("mode") or "payment",
        status=session.get("status") or "",
        payment_status=session.get("payment_status") or "",
        amount_total=from_minor(total, session["currency"]) if total is not None else None,
        customer_id=ref_id(session.get("customer")),
        subscription_id=ref_id(session.get("subscription")),
        invoice_id=ref_id(session.get("invoice")),
        payment_intent_id=ref_id(pi),
        payment_intent_status=pi.get("status") if isinstance(pi, dict) else None,
        payment=payment_fact(charge) if isinstance(charge, dict) else None,
    )


def dispute_fact(dispute: Json, charge: Json) -> DisputeFact:
    lines = tuple(
        balance_fact(bt) for bt in dispute.get("balance_transactions") or [] if isinstance(bt, dict)
    )
    amount = dispute.get("amount")
    return DisputeFact(
        id=dispute["id"],
        charge_id=str(ref_id(dispute.get("charge"))),
        status=dispute["status"],
        payment=payment_fact(charge),
        amount=from_minor(amount, dispute["currency"]) if amount is not None else None,
        balance_lines=lines,
    )


def invoice_subscription(invoice: Json) -> tuple[str | None, str | None]:
    """(subscription id, our plan's donation id): the pinned API version has both under
    parent.subscription_details."""
    details = ((invoice.get("parent") or {}).get("subscription_details")) or {}
    plan = (details.get("metadata") or {}).get("donation_id")
    return ref_id(details.get("subscription")), (str(plan) if plan else None)


def invoice_payment_intent_id(invoice: Json) -> str | None:
    """The payment intent of the invoice's paid payment (``payments`` expanded): an open
    or canceled attempt listed before it is not the money that paid the invoice."""
    for payment in (invoice.get("payments") or {}).get("data") or []:
        pi_id = ref_id((payment.get("payment") or {}).get("payment_intent"))
        if pi_id and payment.get("status") == "paid":
            return pi_id
    return None


def invoice_collecting_payment_intent_id(invoice: Json) -> str | None:
    """The payment intent an invoice is (or was last) collected with (``payments``
    expanded): the paid one, else the default attempt. A first monthly payment that failed
    leaves its invoice ``open`` with that attempt ``open`` too (never ``paid``), and its
    payment intent at ``requires_payment_method``; a canceled attempt is not the one."""
    paid = invoice_payment_intent_id(invoice)
    if paid:
        return paid
    attempts = [
        payment
        for payment in (invoice.get("payments") or {}).get("data") or []
        if payment.get("status") != "canceled"
    ]
    attempts.sort(key=lambda payment: not payment.get("is_default"))
    for payment in attempts:
        pi_id = ref_id((payment.get("payment") or {}).get("payment_intent"))
        if pi_id:
            return pi_id
    return None


def invoice_fact(invoice: Json, charge: Json | None) -> InvoiceFact:
    subscription_id, plan_id = invoice_subscription(invoice)
    return InvoiceFact(
        id=invoice["id"],
        plan_donation_id=plan_id,
        subscription_id=subscription_id,
        customer_id=ref_id(invoice.get("customer")),
        billing_reason=invoice.get("billing_reason") or "",
        status=invoice.get("status") or "",
        amount_paid=from_minor(invoice.get("amount_paid") or 0, invoice["currency"]),
        attempted=bool(invoice.get("attempted")),
        payment=payment_fact(charge) if charge else None,
        attempt_count=int(invoice.get("attempt_count") or 0),
    )


def subscription_fact(sub: Json) -> SubscriptionFact:
    plan = (sub.get("metadata") or {}).get("donation_id")
    return SubscriptionFact(
        id=sub["id"], donation_id=str(plan) if plan else None, status=sub["status"]
    )


def refund_fact(refund: Json) -> RefundFact:
    bt, failure = refund.get("balance_transaction"), refund.get("failure_balance_transaction")
    return RefundFact(
        id=refund["id"],
        charge_id=str(ref_id(refund.get("charge"))),
        amount=from_minor(refund["amount"], refund["currency"]),
        status=refund.get("status") or "",
        balance=balance_fact(bt) if isinstance(bt, dict) else None,
        failure_balance=balance_fact(failure) if isinstance(failure, dict) else None,
        created=moment(refund.get("created")),
    )


def payout_fact(payout: Json) -> PayoutFact:
    return PayoutFact(
        id=payout["id"],
        amount=from_minor(payout["amount"], payout["currency"]),
        status=payout.get("status") or "",
        automatic=bool(payout.get("automatic")),
        method=payout.get("method") or "standard",
        arrival_date=moment(payout.get("arrival_date")),
        reconciliation_status=payout.get("reconciliation_status") or "not_applicable",
        failure_code=payout.get("failure_code") or "",
        failure_message=payout.get("failure_message") or "",
        balance_transaction_id=ref_id(payout.get("balance_transaction")) or "",
        created=moment(payout.get("created")),
    )


def event_ref(event: Json) -> EventRef:
    return EventRef(id=event["id"], type=event["type"])
