"""Payouts: the money arriving in the charity's bank account, line by line.

On ``payout.*`` events the payout is recorded (in the event's transaction) and, after
commit, a task lists its balance transactions once Stripe says its reconciliation is
completed. Each line is stored linked to its ledger rows and gift, or unlinked (Stripe's own
fees, adjustments, another product's charge on a shared account); the lines of a payout
must sum, net, to its amount to the cent, or the payout is flagged with the difference. A
manual or instant payout is not itemised by Stripe, and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import timedelta
from decimal import Decimal
from itertools import islice

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from donations.models import Donation, LedgerEntry, Payout, PayoutLine
from donations.providers import provider
from donations.providers.facts import BalanceFact, PayoutFact
from donations.services import enqueue
from donations.services.per_item_errors import item_isolated

logger = logging.getLogger(__name__)

K = LedgerEntry.Kind
L = Payout.Lines
CHUNK = 1000
# The ledger rows a balance transaction of each source type can belong to.
GIFT_KINDS = (K.GIFT, K.FEE)
DISPUTE_KINDS = (K.DISPUTE_WITHDRAWAL, K.DISPUTE_REINSTATEMENT, K.DISPUTE_FEE)
PRIMARY = (
    K.GIFT,
    K.REFUND,
    K.REFUND_FAILED,
    K.DISPUTE_WITHDRAWAL,
    K.DISPUTE_REINSTATEMENT,
    K.DISPUTE_FEE,
    K.FEE,
)


def _itemisable(fact: PayoutFact) -> bool:
    """Stripe lists the balance transactions of automatic payouts only."""
    return fact.automatic and fact.method == "standard"


def payout_record(*, fact: PayoutFact, schedule: bool = True) -> Payout:
    """Store what Stripe says about a payout (idempotent; the row is locked while written)
    and, once its reconciliation is completed, have its lines listed after commit (unless
    the caller is about to list them itself)."""
    with transaction.atomic():
        payout, _ = Payout.objects.select_for_update().get_or_create(
            stripe_id=fact.id,
            defaults={"amount": fact.amount, "status": fact.status, "created": fact.created},
        )
        payout.amount = fact.amount
        payout.status = fact.status
        payout.automatic = fact.automatic
        payout.method = fact.method
        payout.arrival_date = fact.arrival_date
        payout.provider_reconciliation = fact.reconciliation_status
        payout.failure_code = fact.failure_code
        payout.failure_message = fact.failure_message[:500]
        payout.created = fact.created or payout.created
        if not _itemisable(fact):
            payout.lines_status = L.NOT_ITEMISED
        payout.save()
        if (
            schedule
            and _itemisable(fact)
            and fact.reconciliation_status == "completed"
            and payout.lines_status == L.AWAITING
        ):
            enqueue.enqueue_on_commit(enqueue.PAYOUT_RECONCILE, fact.id)
    return payout


def _chunks(lines: Iterable[BalanceFact]) -> Iterator[list[BalanceFact]]:
    it = iter(lines)
    while chunk := list(islice(it, CHUNK)):
        yield chunk


def _link(chunk: list[BalanceFact]) -> dict[str, tuple[int | None, list[int], str | None]]:
    """For each balance transaction: (primary ledger row, every ledger row, donation).
    Found by the balance transaction id, else by its source (a gift recorded before Stripe
    reported its balance transaction learns the id here, once)."""
    ids = [line.id for line in chunk]
    by_bt: dict[str, list[LedgerEntry]] = {}
    for entry in LedgerEntry.objects.filter(balance_transaction_id__in=ids).only(
        "id", "kind", "donation_id", "balance_transaction_id"
    ):
        by_bt.setdefault(entry.balance_transaction_id, []).append(entry)
    donation_of: dict[str, str] = {}  # lines of a gift whose ledger rows were not found
    missing = [line for line in chunk if line.id not in by_bt]
    charge_ids = {line.charge_id or line.source_id for line in missing}
    donations = dict(
        Donation.objects.filter(charge_id__in=charge_ids - {""}).values_list("charge_id", "pk")
    )
    for line in missing:
        donation_id = donations.get(line.charge_id or line.source_id)
        if donation_id is None:
            continue
        rows = LedgerEntry.objects.filter(donation_id=donation_id, balance_transaction_id="")
        if line.source_type == "refund" or line.source_id.startswith("re_"):
            rows = rows.filter(kind__in=[K.REFUND, K.REFUND_FAILED], reference=line.source_id)
        elif line.source_type == "dispute" or line.source_id.startswith("du_"):
            rows = rows.filter(kind__in=DISPUTE_KINDS, reference=line.source_id)
        else:
            rows = rows.filter(kind__in=GIFT_KINDS)
        found = list(rows.only("id", "kind", "donation_id"))
        for entry in found:
            LedgerEntry.objects.filter(pk=entry.pk, balance_transaction_id="").update(
                balance_transaction_id=line.id
            )
        by_bt[line.id] = found
        donation_of[line.id] = str(donation_id)
    links: dict[str, tuple[int | None, list[int], str | None]] = {}
    for line in chunk:
        entries = by_bt.get(line.id) or []
        primary = next((e for kind in PRIMARY for e in entries if e.kind == kind), None)
        donation = str(entries[0].donation_id) if entries and entries[0].donation_id else None
        links[line.id] = (
            primary.pk if primary else None,
            [e.pk for e in entries],
            donation or donation_of.get(line.id),
        )
    return links


def payout_reconcile(*, payout_id: str) -> Payout:
    """List the payout's balance transactions (every page), store each line linked to its
    ledger rows and gift, and check that they sum to the payout's amount."""
    fact = provider().payout_get(payout_id)
    payout = payout_record(fact=fact, schedule=False)
    if not _itemisable(fact) or fact.reconciliation_status != "completed":
        return payout
    for chunk in _chunks(provider().payout_lines(payout_id)):
        links = _link(chunk)
        with transaction.atomic():
            PayoutLine.objects.bulk_create(
                [
                    PayoutLine(
                        payout=payout,
                        balance_transaction_id=line.id,
                        type=line.type,
                        reporting_category=line.reporting_category,
                        source_id=line.source_id,
                        amount=line.amount.amount,
                        fee=line.fee.amount,
                        net=line.net.amount,
                        currency=str(line.amount.currency),
                        exchange_rate=line.exchange_rate,
                        donation_id=links[line.id][2],
                        ledger_entry_id=links[line.id][0],
                        description=line.description[:300],
                        created=line.created,
                    )
                    for line in chunk
                ],
                ignore_conflicts=True,  # a second run (or a concurrent one) adds nothing
            )
            entry_ids = [pk for _, pks, _ in links.values() for pk in pks]
            LedgerEntry.objects.filter(pk__in=entry_ids, payout__isnull=True).update(payout=payout)
    return payout_lines_check(payout=payout)


def payout_lines_check(*, payout: Payout) -> Payout:
    """Sum the stored lines (net) against the payout's amount; flag any difference."""
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout.pk)
        sums = PayoutLine.objects.filter(payout=payout).aggregate(
            total=Sum("net"), count=Count("id"), unlinked=Count("id", filter=Q(donation=None))
        )
        total = sums["total"] or Decimal(0)
        payout.lines_total = total
        payout.line_count = sums["count"]
        payout.unlinked_count = sums["unlinked"]
        difference = Decimal(payout.amount.amount) - total
        payout.difference = difference or None
        payout.lines_status = L.MISMATCH if difference else L.RECONCILED
        payout.reconciled_at = timezone.now()
        payout.save()
    if difference:
        logger.error(
            "Payout %s: lines sum to %s, the payout is %s", payout.stripe_id, total, payout.amount
        )
    return payout


def payouts_repair(*, days: int = 3) -> list[str]:
    """Beat: list the last days' payouts from Stripe and reconcile any not reconciled here
    yet (its events were missed, or the task was lost). Returns the ids it worked on."""
    since = timezone.now() - timedelta(days=days)
    done = set(
        Payout.objects.filter(
            lines_status__in=[L.RECONCILED, L.MISMATCH, L.NOT_ITEMISED], created__gte=since
        ).values_list("stripe_id", flat=True)
    )
    repaired = []
    for fact in provider().payouts_since(since):
        if fact.id in done:
            continue
        with item_isolated("Repair of payout", fact.id):  # one bad payout: log, go on
            if _itemisable(fact) and fact.reconciliation_status == "completed":
                payout_reconcile(payout_id=fact.id)
            else:
                payout_record(fact=fact, schedule=False)
            repaired.append(fact.id)
    return repaired
