"""The money ledger: one append-only row per movement, written in the transaction of the
state change that caused it (the database refuses updates and deletes).

Every row is keyed by (kind, reference), so replays, duplicates and out-of-order events
write each movement once. A transition collects its rows in a ``LedgerBatch``; the rows'
``project_amount`` (what they move the thermometer by) always add up to the change of the
gift's contribution (``totals.contribution``), so a project's raised figure is the sum of its
ledger and a gift's ``counted`` the sum of its rows. A gift's refunded, fee and net figures
are read back from its rows (``donation_figures``): kept in step, never a second truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone
from djmoney.money import Money

from donations.models import Donation, LedgerEntry, MatchAllocation
from donations.money import quantum
from donations.providers.facts import BalanceFact, DisputeFact, PaymentFact, RefundFact
from donations.services.gift_value import gift_value
from donations.services.periods import ledger_row_date

K = LedgerEntry.Kind
S = Donation.Status
PAID_STATES = {S.SUCCEEDED, S.PARTIALLY_REFUNDED, S.REFUNDED, S.DISPUTED}
FAILED_REFUND = {"failed", "canceled"}
DISPUTE_PAID_BACK = {"won", "warning_closed"}


@dataclass
class LedgerBatch:
    """The rows one transition of one gift writes (the donation row is locked)."""

    donation: Donation
    rows: list[LedgerEntry] = field(default_factory=list)
    _known: dict[tuple[str, str], LedgerEntry] | None = None

    def known(self) -> dict[tuple[str, str], LedgerEntry]:
        if self._known is None:
            self._known = {
                (row.kind, row.reference): row
                for row in LedgerEntry.objects.filter(donation=self.donation)
            }
        return self._known

    def has(self, kind: str, reference: str) -> bool:
        return (kind, reference) in self.known() or any(
            r.kind == kind and r.reference == reference for r in self.rows
        )

    def add(
        self,
        kind: str,
        reference: str,
        amount: Money,
        *,
        settled: Money | None = None,
        rate: Decimal | None = None,
        balance_transaction_id: str = "",
        occurred_at: datetime | None = None,
        natural: Decimal = Decimal(0),
        note: str = "",
    ) -> None:
        if self.has(kind, reference):
            return
        d = self.donation
        self.rows.append(
            LedgerEntry(
                kind=kind,
                reference=reference,
                project_id=d.project_id,
                donation=d,
                amount=amount,
                settled=settled,
                exchange_rate=rate,
                balance_transaction_id=balance_transaction_id,
                occurred_at=occurred_at or d.succeeded_at or timezone.now(),
                project_amount=natural,
                note=note[:200],
            )
        )

    def fill_balance_transaction(self, kind: str, reference: str, bt_id: str) -> None:
        """A row recorded before Stripe reported its balance transaction learns its id."""
        row = self.known().get((kind, reference))
        if row is not None and not row.balance_transaction_id and bt_id:
            LedgerEntry.objects.filter(pk=row.pk, balance_transaction_id="").update(
                balance_transaction_id=bt_id
            )
            row.balance_transaction_id = bt_id

    def refunded(self) -> Decimal:
        """Refunded money (donor's currency) after this batch: refunds less failed ones."""
        rows = [*self.known().values(), *self.rows]
        kinds = {K.REFUND, K.REFUND_FAILED}
        return -sum((Decimal(r.amount.amount) for r in rows if r.kind in kinds), Decimal(0))

    def write(self, *, raised_change: Decimal) -> None:
        """Store the rows, their project amounts adding up to the contribution's change
        (natural shares, rounding on the last row; with no money row, an adjustment)."""
        raising = [r for r in self.rows if r.kind in LedgerEntry.RAISED_KINDS]
        natural = sum((r.project_amount for r in raising), Decimal(0))
        if raising:
            raising[-1].project_amount += raised_change - natural
        elif raised_change:
            d = self.donation
            self.rows.append(
                LedgerEntry(
                    kind=K.ADJUSTMENT,
                    reference=f"{d.pk}:{timezone.now().isoformat()}:{len(self.known())}",
                    project_id=d.project_id,
                    donation=d,
                    amount=Money(0, d.amount.currency),
                    occurred_at=timezone.now(),
                    project_amount=raised_change,
                    note=f"counted {raised_change:+} with no money movement ({d.status})",
                )
            )
        if self.rows:
            ledger_rows_create(self.rows)
            for row in self.rows:
                self.known()[(row.kind, row.reference)] = row
            self.rows = []


def ledger_rows_create(rows: list[LedgerEntry]) -> None:
    """The one place ledger rows are written: each dated by the closed-period rule first."""
    LedgerEntry.objects.bulk_create([ledger_row_date(row) for row in rows])


def _gift_share(d: Donation, money: Money) -> Decimal:
    """The part of the gift's counted value that a movement of this much money carries."""
    charged = d.charged if d.charged is not None else d.total_charge
    gross, provisional = gift_value(d)
    if provisional or not charged.amount:
        return Decimal(0)
    share = gross * Decimal(money.amount) / Decimal(charged.amount)
    return share.quantize(quantum(d.project.currency), ROUND_HALF_UP)


def _settled_for(money: Money, balance: BalanceFact | None) -> Money | None:
    if balance is not None:
        return balance.amount
    if str(money.currency) == settings.DONATION_SETTLEMENT_CURRENCY:
        return money  # no conversion: Stripe settles exactly what it charged
    return None


def payment_record(batch: LedgerBatch, payment: PaymentFact) -> None:
    """The gift (gross) and its processing fee, once each; refunds and failed refunds by
    refund id. The gift row waits until its value is known (a gift in another currency
    counts once Stripe reports the settled amount)."""
    d = batch.donation
    ref = str(d.pk)
    charged = d.charged if d.charged is not None else d.total_charge
    if d.status in PAID_STATES and d.succeeded_at is not None:
        _, provisional = gift_value(d)
        if not provisional:
            batch.add(
                K.GIFT,
                ref,
                charged,
                settled=_settled_for(charged, payment.balance),
                rate=payment.exchange_rate,
                balance_transaction_id=payment.balance_transaction_id or "",
                occurred_at=payment.paid_at or d.succeeded_at,
                natural=_gift_share(d, charged),
            )
            batch.fill_balance_transaction(K.GIFT, ref, payment.balance_transaction_id or "")
        if payment.balance is not None and payment.balance.fee.amount:
            fee = payment.balance.fee
            batch.add(
                K.FEE,
                ref,
                -fee,
                settled=-fee,
                balance_transaction_id=payment.balance.id,
                occurred_at=payment.balance.created or payment.paid_at,
            )
    for refund in payment.refunds or ():
        refund_record(batch, refund)


def refund_record(batch: LedgerBatch, refund: RefundFact) -> None:
    d = batch.donation
    if refund.status in FAILED_REFUND and not batch.has(K.REFUND, refund.id):
        return  # never took money out (or we never counted it out): nothing moved
    if refund.balance is not None:
        out: Money | None = refund.balance.amount  # signed: money leaving the balance
    elif str(refund.amount.currency) == settings.DONATION_SETTLEMENT_CURRENCY:
        out = -refund.amount
    else:
        out = None
    batch.add(
        K.REFUND,
        refund.id,
        -refund.amount,
        settled=out,
        rate=refund.balance.exchange_rate if refund.balance else None,
        balance_transaction_id=refund.balance.id if refund.balance else "",
        # Never the gift's own time: a refund is dated when it happened.
        occurred_at=refund.created or timezone.now(),
        natural=-_gift_share(d, refund.amount),
    )
    if refund.status in FAILED_REFUND:
        back = refund.failure_balance
        batch.add(
            K.REFUND_FAILED,
            refund.id,
            refund.amount,
            settled=back.amount if back else (-out if out is not None else None),
            balance_transaction_id=back.id if back else "",
            occurred_at=(back.created if back else None) or timezone.now(),
            natural=_gift_share(d, refund.amount),
            note=f"refund {refund.status}",
        )


def dispute_record(batch: LedgerBatch, dispute: DisputeFact, *, withdrawn: bool) -> None:
    """The withdrawal and the dispute fee (from the dispute's balance transactions, or from
    its status when Stripe has not listed them), and the reinstatement of a won dispute."""
    d = batch.donation
    amount = dispute.amount or (d.charged if d.charged is not None else d.total_charge)
    out = next((b for b in dispute.balance_lines if b.amount.amount < 0), None)
    back = next((b for b in dispute.balance_lines if b.amount.amount > 0), None)
    if out is not None or withdrawn:
        batch.add(
            K.DISPUTE_WITHDRAWAL,
            dispute.id,
            -amount,
            settled=out.amount if out else None,
            rate=out.exchange_rate if out else None,
            balance_transaction_id=out.id if out else "",
            occurred_at=(out.created if out else None) or timezone.now(),
        )
        batch.fill_balance_transaction(K.DISPUTE_WITHDRAWAL, dispute.id, out.id if out else "")
    for line in dispute.balance_lines:
        if line.fee.amount:
            batch.add(
                K.DISPUTE_FEE,
                line.id,
                -line.fee,
                settled=-line.fee,
                balance_transaction_id=line.id,
                occurred_at=line.created,
            )
    if back is not None or (dispute.status in DISPUTE_PAID_BACK and withdrawn):
        batch.add(
            K.DISPUTE_REINSTATEMENT,
            dispute.id,
            amount,
            settled=back.amount if back else None,
            rate=back.exchange_rate if back else None,
            balance_transaction_id=back.id if back else "",
            occurred_at=(back.created if back else None) or timezone.now(),
        )


# The movements that change a gift's match after its success: a reversal or restoration is
# dated when the latest of them happened (Stripe's time), not when the gift was paid.
MATCH_CHANGING_KINDS = (
    K.REFUND,
    K.REFUND_FAILED,
    K.DISPUTE_WITHDRAWAL,
    K.DISPUTE_REINSTATEMENT,
    K.OFFLINE_VOID,
)


def _match_moment(allocation: MatchAllocation, donation: Donation) -> datetime:
    if allocation.kind == MatchAllocation.Kind.ALLOCATE:
        return donation.succeeded_at or timezone.now()
    # The transition's own rows are written before the match is brought in line.
    cause = (
        LedgerEntry.objects.filter(donation=donation, kind__in=MATCH_CHANGING_KINDS)
        .order_by("-recorded_at", "-id")
        .values_list("occurred_at", "original_occurred_at")
        .first()
    )
    if cause is None:
        return timezone.now()
    occurred_at, original = cause
    return original or occurred_at


def match_record(allocation: MatchAllocation, donation: Donation) -> None:
    """A match, reversal or restoration, mirrored from the pool's allocation ledger."""
    kind = K.MATCH_REVERSAL if allocation.amount < 0 else K.MATCH
    money = Money(allocation.amount, donation.project.currency)
    row = LedgerEntry(
        kind=kind,
        reference=f"allocation:{allocation.pk}",
        project_id=donation.project_id,
        donation=donation,
        pool_id=allocation.pool_id,
        amount=money,
        occurred_at=_match_moment(allocation, donation),
        project_amount=allocation.amount,
        note=allocation.note,
    )
    ledger_rows_create([row])


@dataclass(frozen=True)
class DonationFigures:
    refunded: Decimal  # donor's currency
    fee: Decimal | None  # settlement currency: processing and dispute fees
    net: Decimal | None  # settlement currency: everything that stayed with the charity


def donation_figures(d: Donation) -> DonationFigures:
    """A gift's refunded, fee and net figures, as its ledger rows add them up."""
    sums = dict(
        LedgerEntry.objects.filter(donation=d)
        .exclude(kind__in=LedgerEntry.MATCH_KINDS)
        .values_list("kind")
        .annotate(Sum("amount"))
        .values_list("kind", "amount__sum")
    )
    settled = (
        LedgerEntry.objects.filter(donation=d, settled__isnull=False)
        .exclude(kind__in=LedgerEntry.MATCH_KINDS)
        .aggregate(net=Sum("settled"))
    )
    fees = LedgerEntry.objects.filter(donation=d, kind__in=[K.FEE, K.DISPUTE_FEE]).aggregate(
        fee=Sum("settled")
    )
    refunded = -(sums.get(K.REFUND) or Decimal(0)) - (sums.get(K.REFUND_FAILED) or Decimal(0))
    return DonationFigures(
        refunded=refunded,
        fee=-fees["fee"] if fees["fee"] is not None else None,
        net=settled["net"],
    )
