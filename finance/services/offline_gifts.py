"""Offline gifts (cheque, bank transfer, cash, donor-advised fund) and their batches.

An offline gift is a Donation, succeeded at once, with its OfflineGift details: so it counts
in the thermometer, the donor count, the exports and the statements like any gift. Its money
is one ledger row (``offline_gift``) written with the totals in one transaction, under the
same lock order as the lifecycle (donation, donor, pools, totals). The pools match it when
``OFFLINE_GIFTS_MATCHED`` (default: like online gifts). A receipt goes out when there is an
email. A mistaken gift is voided by a reversing row (``offline_void``, and the match
reversed), never deleted. Offline gifts are recorded in their project's currency, as banked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from djmoney.money import Money

from donations.models import Donation, LedgerEntry
from donations.money import currency_exponent
from donations.services import enqueue, ledger, outbox, receipt_numbers, totals
from donations.services.matching import match_sync
from finance.models import FinanceAction, OfflineBatch, OfflineGift
from finance.services.action_log import Actor, action_record
from projects.models import Project

K = LedgerEntry.Kind


class OfflineRefused(Exception):
    """The gift, void or close cannot be done; the message says why."""


@dataclass(frozen=True)
class OfflineGiftInput:
    project: Project
    amount: Decimal
    currency: str
    donor_name: str
    donor_email: str
    method: str
    reference: str
    received_on: date
    note: str = ""
    batch_id: int | None = None


def _paid_at(received_on: date) -> datetime:
    """When it counts: now for a gift received today, else midday of the day received in the
    charity's zone (so the statement and any matching window see the right day)."""
    zone = ZoneInfo(str(settings.TIME_ZONE))
    if received_on >= timezone.now().astimezone(zone).date():
        return timezone.now()
    return datetime.combine(received_on, time(12), zone)


def _validate(gift: OfflineGiftInput) -> None:
    if gift.method not in OfflineGift.Method.values:
        raise OfflineRefused("Choose how the gift was paid")
    if gift.amount <= 0:
        raise OfflineRefused("The amount must be more than zero")
    exponent = currency_exponent(gift.currency)
    if gift.amount != gift.amount.quantize(Decimal(1).scaleb(-exponent)):
        raise OfflineRefused(f"{gift.currency} amounts have at most {exponent} decimals")
    if gift.currency != gift.project.currency:
        raise OfflineRefused(
            f"{gift.project.title} counts in {gift.project.currency}: record the gift in "
            f"{gift.project.currency}, as it was banked"
        )
    if gift.received_on > timezone.now().astimezone(ZoneInfo(str(settings.TIME_ZONE))).date():
        raise OfflineRefused("The received date is in the future")
    if not gift.donor_name.strip():
        raise OfflineRefused("Give the donor's name")


def offline_gift_record(*, gift: OfflineGiftInput, actor: Actor) -> OfflineGift:
    _validate(gift)
    with transaction.atomic():
        if gift.batch_id is not None:
            batch = OfflineBatch.objects.select_for_update().filter(pk=gift.batch_id).first()
            if batch is None:
                raise OfflineRefused("No such batch")
            if not batch.is_open:
                raise OfflineRefused(f"Batch {batch.name} is closed")
            if str(batch.expected_total.currency) != gift.currency:
                raise OfflineRefused(f"Batch {batch.name} is in {batch.expected_total.currency}")
        money = Money(gift.amount, gift.currency)
        paid_at = _paid_at(gift.received_on)
        d = Donation.objects.create(
            project=gift.project,
            amount=money,
            fee_covered=Money(0, gift.currency),
            refunded=Money(0, gift.currency),
            charged=money,
            donor_name=gift.donor_name.strip(),
            donor_email=gift.donor_email.strip(),
            status=Donation.Status.PENDING,
        )
        d = Donation.objects.select_for_update().select_related("project").get(pk=d.pk)
        d.status = Donation.Status.SUCCEEDED
        d.succeeded_at = paid_at
        receipt_numbers.receipt_number_assign(d)  # an official receipt like any gift's
        settles = gift.currency == settings.DONATION_SETTLEMENT_CURRENCY
        if settles:
            d.settled = money
            d.net = money
            d.stripe_fee = Money(0, gift.currency)
        batch_rows = ledger.LedgerBatch(d)
        batch_rows.add(
            K.OFFLINE_GIFT,
            str(d.pk),
            money,
            settled=money if settles else None,
            occurred_at=paid_at,
            natural=gift.amount,
            note=f"{gift.method} {gift.reference}".strip()[:200],
        )
        _count(d, batch_rows)
        offline = OfflineGift.objects.create(
            donation=d,
            batch_id=gift.batch_id,
            method=gift.method,
            reference=gift.reference.strip(),
            received_on=gift.received_on,
            note=gift.note,
            recorded_by_id=getattr(actor, "pk", None),
        )
        action_record(
            FinanceAction.Kind.OFFLINE_GIFT,
            actor,
            f"Offline gift of {money} ({offline.get_method_display()}) to {gift.project.title}",
            target=f"donation:{d.pk}",
            detail={
                "amount": str(gift.amount),
                "currency": gift.currency,
                "method": gift.method,
                "reference": gift.reference,
                "received_on": gift.received_on.isoformat(),
                "batch": gift.batch_id,
            },
        )
        if d.donor_email:
            outbox.outbox_write(enqueue.RECEIPT_SEND, str(d.pk))  # with this transaction
    return offline


def _count(d: Donation, rows: ledger.LedgerBatch) -> None:
    """The lifecycle's recount for a gift with no Stripe facts: ledger rows, the gift's
    counted figure, the pools (when offline gifts are matched), the totals."""
    change = totals.gift_recount(d)
    rows.write(raised_change=change.raised)
    matched = Decimal(0)
    if settings.OFFLINE_GIFTS_MATCHED or d.match_decided_at is not None:
        matched = match_sync(donation=d)
    d.save()
    totals.totals_move(donation=d, change=change, matched=matched)


def offline_gift_void(*, offline_id: int, reason: str, actor: Actor) -> OfflineGift:
    """Reverse a mistaken offline gift: its money and any match come out of the totals by
    new ledger rows; the gift stays, marked voided."""
    if not reason.strip():
        raise OfflineRefused("Say why the gift is voided")
    with transaction.atomic():
        offline = OfflineGift.objects.filter(pk=offline_id).first()
        if offline is None:
            raise OfflineRefused("No such offline gift")
        d = (
            Donation.objects.select_for_update()
            .select_related("project")
            .get(pk=offline.donation_id)
        )
        offline = OfflineGift.objects.select_for_update().get(pk=offline_id)
        if offline.voided_at is not None:
            raise OfflineRefused("This gift is already voided")
        if offline.batch_id and not OfflineBatch.objects.get(pk=offline.batch_id).is_open:
            raise OfflineRefused("Its batch is closed: the batch would no longer agree")
        d.status = Donation.Status.VOIDED
        rows = ledger.LedgerBatch(d)
        money = d.charged or d.amount
        settles = str(money.currency) == settings.DONATION_SETTLEMENT_CURRENCY
        rows.add(
            K.OFFLINE_VOID,
            str(d.pk),
            -money,
            settled=-money if settles else None,
            occurred_at=timezone.now(),
            natural=-d.counted,
            note=reason[:200],
        )
        if settles:
            d.net = Money(0, money.currency)
        _count(d, rows)
        now = timezone.now()
        OfflineGift.objects.filter(pk=offline.pk).update(
            voided_at=now, voided_by_id=getattr(actor, "pk", None), void_reason=reason[:300]
        )
        offline.refresh_from_db()
        action_record(
            FinanceAction.Kind.OFFLINE_VOID,
            actor,
            f"Offline gift {d.pk} of {money} voided",
            target=f"donation:{d.pk}",
            detail={"reason": reason},
        )
    return offline


def batch_figures(batch: OfflineBatch) -> tuple[int, Decimal]:
    """The batch's live gifts: how many, and their total."""
    live = OfflineGift.objects.filter(batch=batch, voided_at__isnull=True).aggregate(
        n=Count("id"), total=Sum("donation__amount")
    )
    return int(live["n"] or 0), Decimal(live["total"] or 0)


def batch_close(*, batch_id: int, actor: Actor) -> OfflineBatch:
    with transaction.atomic():
        batch = OfflineBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None:
            raise OfflineRefused("No such batch")
        if not batch.is_open:
            raise OfflineRefused("The batch is already closed")
        count, total = batch_figures(batch)
        problems = []
        if count != batch.expected_count:
            problems.append(f"it has {count} gift(s), {batch.expected_count} expected")
        if total != batch.expected_total.amount:
            problems.append(
                f"they total {total} {batch.expected_total.currency}, "
                f"{batch.expected_total.amount} expected"
            )
        if problems:
            raise OfflineRefused(f"Batch {batch.name} cannot close: {'; '.join(problems)}")
        now = timezone.now()
        OfflineBatch.objects.filter(pk=batch.pk).update(
            closed_at=now, closed_by_id=getattr(actor, "pk", None)
        )
        batch.refresh_from_db()
        action_record(
            FinanceAction.Kind.BATCH_CLOSE,
            actor,
            f"Offline batch {batch.name} closed ({count} gifts, {total} {batch.expected_total.currency})",
            target=f"offline_batch:{batch.pk}",
            detail={"count": count, "total": str(total)},
        )
    return batch


def batch_open(
    *, name: str, expected_count: int, expected_total: Money, note: str, actor: Any
) -> OfflineBatch:
    if expected_count <= 0 or expected_total.amount <= 0:
        raise OfflineRefused("A batch expects at least one gift and a total above zero")
    return OfflineBatch.objects.create(
        name=name,
        expected_count=expected_count,
        expected_total=expected_total,
        note=note,
        created_by_id=getattr(actor, "pk", None),
    )
