"""Refunds from the finance desk, through the payment provider's ``refund_create``.

Each request carries its own idempotency key, made when the form is shown: the same form
posted twice (a double click, a browser retry) is the same request and reaches Stripe once
with the same key. Two officers refunding the same gift at once are serialised by the
donation's row lock, and each request is capped at what remains refundable counting the
other requests still on their way, so together they can never refund more than was
charged. The refund shows as pending until Stripe's event (``charge.refunded``) has moved
the gift's ledger (its refund row, by refund id); the lifecycle and the matching ledger
handle the money as for a refund made in Stripe's dashboard (the match is reversed in
proportion).
"""

from __future__ import annotations

import logging
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.db import IntegrityError, transaction
from djmoney.money import Money

from donations.models import Donation, LedgerEntry
from donations.money import currency_exponent
from donations.providers import ProviderError, provider
from finance.models import FinanceAction, RefundRequest
from finance.services.action_log import Actor, action_record

logger = logging.getLogger(__name__)

S = Donation.Status
REFUNDABLE_STATUSES = {S.SUCCEEDED, S.PARTIALLY_REFUNDED}
LIVE_STATES = (RefundRequest.State.REQUESTED, RefundRequest.State.SENT)


class RefundRefused(Exception):
    """The request cannot be made; the message says why (shown to finance as it is)."""


def _in_ledger(refund_ids: list[str]) -> set[str]:
    """Refund ids whose Stripe event has been applied (the ledger has their row)."""
    if not refund_ids:
        return set()
    return set(
        LedgerEntry.objects.filter(
            kind=LedgerEntry.Kind.REFUND, reference__in=refund_ids
        ).values_list("reference", flat=True)
    )


def refund_pending_total(d: Donation) -> Decimal:
    """What our requests asked for that Stripe's events have not yet applied."""
    live = list(
        d.refund_requests.filter(state__in=LIVE_STATES).values_list("amount", "provider_refund_id")
    )
    applied = _in_ledger([rid for _, rid in live if rid])
    # values_list yields the column's Decimal, not the Money the field's descriptor returns.
    amounts = [cast("Decimal", amount) for amount, rid in live if not rid or rid not in applied]
    return sum(amounts, Decimal(0))


def refundable(d: Donation) -> Money:
    """What can still be refunded: the charge, less what the ledger says was refunded (from
    the admin, Stripe's dashboard or anywhere), less our requests still pending."""
    if d.charged is None:
        return Money(0, d.amount.currency)
    left = Decimal(d.charged.amount) - Decimal(d.refunded.amount) - refund_pending_total(d)
    return Money(max(left, Decimal(0)), d.charged.currency)


def refund_confirmed(request: RefundRequest) -> bool:
    """Stripe's event for this refund has been applied: the ledger has its row."""
    rid = request.provider_refund_id
    return bool(request.state == RefundRequest.State.SENT and rid and _in_ledger([rid]))


# Digits with commas only between groups of three ("1,000.50"); anything else with a comma
# ("5,00", "1.000,50") may be a decimal comma, and 5,00 must never refund 500.00.
THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d*)?$")
DECIMAL_COMMA = re.compile(r"^(\d{1,3}(\.\d{3})*|\d+),(\d{1,2}|\d{4,})$")


def parse_amount(raw: str, currency: str) -> Decimal:
    """An amount typed by finance: a point for decimals, commas only as thousands marks.
    An amount that reads as a decimal comma is refused, saying how to write it."""
    text = str(raw).strip()
    if "," in text:
        if THOUSANDS.match(text):
            text = text.replace(",", "")
        else:
            meant = DECIMAL_COMMA.match(text)
            if meant:
                whole, _, cents = text.rpartition(",")
                raise RefundRefused(f"use a point for decimals: {whole.replace('.', '')}.{cents}")
            raise RefundRefused(f"{raw!r} is not an amount")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise RefundRefused(f"{raw!r} is not an amount") from None
    if not amount.is_finite() or amount <= 0:
        raise RefundRefused("The amount must be more than zero")
    if amount != amount.quantize(Decimal(1).scaleb(-currency_exponent(currency))):
        raise RefundRefused(
            f"{currency} amounts have at most {currency_exponent(currency)} decimals"
        )
    return amount


def refund_request(
    *,
    donation_id: Any,
    amount: Decimal,
    reason: str,
    note: str = "",
    actor: Actor,
    idempotency_key: uuid.UUID,
) -> RefundRequest:
    """Record the request under the gift's lock, then ask the provider (outside the lock:
    the test provider delivers Stripe's event at once, and it takes the same lock)."""
    if reason not in RefundRequest.Reason.values:
        raise RefundRefused("Choose a reason for the refund")
    with transaction.atomic():
        d = Donation.objects.select_for_update().filter(pk=donation_id).first()
        if d is None:
            raise RefundRefused("No such gift")
        request = RefundRequest.objects.filter(idempotency_key=idempotency_key).first()
        if request is not None:
            if request.donation_id != d.pk:
                raise RefundRefused("This refund form belongs to another gift")
            # The same form posted again: the same request. Sent already: nothing more; not
            # answered (Stripe unreachable): sent again below with the same key, which
            # Stripe answers with the same refund.
        else:
            request = _request_create(d, amount, reason, note, actor, idempotency_key)
    return refund_send(request)


def _request_create(
    d: Donation, amount: Decimal, reason: str, note: str, actor: Actor, key: uuid.UUID
) -> RefundRequest:
    """A new request, under the donation's lock (held by the caller), capped at what
    remains counting the other requests still on their way."""
    if not d.charge_id or d.charged is None:
        raise RefundRefused("Only a gift Stripe has charged can be refunded here")
    if d.status not in REFUNDABLE_STATUSES:
        raise RefundRefused(f"A {d.get_status_display().lower()} gift cannot be refunded")
    left = refundable(d)
    if amount > left.amount:
        raise RefundRefused(
            f"At most {left.amount} {left.currency} remains refundable on this gift"
        )
    try:
        with transaction.atomic():
            request = RefundRequest.objects.create(
                idempotency_key=key,
                donation=d,
                amount=Money(amount, d.charged.currency),
                reason=reason,
                note=note[:300],
                requested_by_id=getattr(actor, "pk", None),
            )
    except IntegrityError:
        # The same key won a race we lost; it is the same request.
        return RefundRequest.objects.get(idempotency_key=key)
    action_record(
        FinanceAction.Kind.REFUND,
        actor,
        f"Refund of {amount} {d.charged.currency} requested on gift {d.pk}",
        target=f"donation:{d.pk}",
        detail={
            "amount": str(amount),
            "currency": str(d.charged.currency),
            "reason": reason,
            "note": note,
            "idempotency_key": str(key),
        },
    )
    return request


def refund_send(request: RefundRequest) -> RefundRequest:
    """Send (or send again, with the same key) a request the provider has not answered.
    The request's row is locked while the provider answers, so the same request posted
    twice at once reaches the provider once (the donation's row is not held: the test
    provider delivers Stripe's event in the same call)."""
    try:
        with transaction.atomic():
            locked = RefundRequest.objects.select_for_update().get(pk=request.pk)
            if locked.state != RefundRequest.State.REQUESTED:
                return locked
            d = Donation.objects.get(pk=locked.donation_id)
            fact = provider().refund_create(
                charge_id=str(d.charge_id),
                amount=locked.amount,
                idempotency_key=f"refund-request-{locked.idempotency_key}",
                metadata={"donation_id": str(d.pk), "refund_request": str(locked.pk)},
            )
            RefundRequest.objects.filter(pk=locked.pk).update(
                state=RefundRequest.State.SENT,
                provider_refund_id=fact.id,
                provider_status=fact.status,
                error="",
            )
    except ProviderError as exc:
        if exc.retryable:
            RefundRequest.objects.filter(pk=request.pk).update(error=str(exc)[:500])
            raise RefundRefused(
                f"Stripe could not be reached ({exc}); the request is kept: send it again"
            ) from exc
        RefundRequest.objects.filter(pk=request.pk, state=RefundRequest.State.REQUESTED).update(
            state=RefundRequest.State.FAILED, error=str(exc)[:500]
        )
        raise RefundRefused(str(exc)) from exc
    request.refresh_from_db()
    logger.info("Refund %s sent for donation %s", request.provider_refund_id, request.donation_id)
    return request
