"""The money ledger: one append-only row per movement, written with the state change, and
the figures (a gift's refunded/fee/net, a project's raised/matched) are its sums."""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from djmoney.money import Money

from donations.models import Donation, LedgerEntry, MatchAllocation
from projects.models import FundingTotals, Project
from tests.donations.event_helpers import Webhooks, charge_of, fresh, gift_start
from tests.donations.matching_helpers import dispute, gift, pool_open, refund, succeed
from tests.factories import DonationFactory, PayoutFactory

K = LedgerEntry.Kind
S = Donation.Status


def _sum(project: Project, kinds: tuple[str, ...]) -> Decimal:
    total = LedgerEntry.objects.filter(project=project, kind__in=kinds).aggregate(
        s=Sum("project_amount")
    )["s"]
    return total or Decimal(0)


def _assert_totals_are_the_ledger(project: Project) -> None:
    t = FundingTotals.objects.get(project=project)
    assert t.raised.amount == _sum(project, LedgerEntry.RAISED_KINDS)
    assert t.matched.amount == _sum(project, LedgerEntry.MATCH_KINDS)
    for d in Donation.objects.filter(project=project):
        rows = LedgerEntry.objects.filter(donation=d, kind__in=LedgerEntry.RAISED_KINDS)
        assert d.counted == (rows.aggregate(s=Sum("project_amount"))["s"] or 0), d.status


def _row(project: Project) -> LedgerEntry:
    d = gift(project, "30")
    succeed(d)
    return LedgerEntry.objects.get(donation=d, kind=K.GIFT)


def test_a_gift_writes_its_gross_fee_and_match_rows_with_stripes_time(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    pool_open(project, cap="100")
    d = gift_start(project, "50")
    session = fake_stripe.pay(d.checkout_session_id)
    charge = charge_of(fake_stripe, d.checkout_session_id)
    hooks.deliver("checkout.session.completed", session)
    hooks.deliver("charge.updated", charge)  # a replay writes nothing more

    rows = {r.kind: r for r in LedgerEntry.objects.filter(donation=fresh(d))}
    assert set(rows) == {K.GIFT, K.FEE, K.MATCH}
    gift_row, fee, match = rows[K.GIFT], rows[K.FEE], rows[K.MATCH]
    assert (gift_row.amount, gift_row.settled, gift_row.project_amount) == (
        Money(50, "USD"),
        Money(50, "USD"),
        Decimal("50.00"),
    )
    assert gift_row.balance_transaction_id == charge["balance_transaction"]
    assert int(gift_row.occurred_at.timestamp()) == charge["created"]  # Stripe's clock
    assert (fee.amount, fee.settled, fee.project_amount) == (
        Money("-1.75", "USD"),
        Money("-1.75", "USD"),
        0,
    )
    assert (match.amount, match.project_amount, match.pool_id) == (
        Money(50, "USD"),
        Decimal(50),
        MatchAllocation.objects.get(donation=d).pool_id,
    )
    assert (fresh(d).stripe_fee, fresh(d).net) == (Money("1.75", "USD"), Money("48.25", "USD"))
    _assert_totals_are_the_ledger(project)


def test_refunds_disputes_and_matches_keep_totals_equal_to_the_ledger(project: Project) -> None:
    pool_open(project, cap="1000")
    kept, refunded, lost, won = (gift(project, a) for a in ("40", "60", "25", "35"))
    for d in (kept, refunded, lost, won):
        succeed(d)
    refund(refunded, Decimal("15"))
    refund(refunded, Decimal("60"))
    dispute(lost, "needs_response")
    dispute(lost, "lost")
    dispute(won, "needs_response")
    dispute(won, "won")

    assert set(LedgerEntry.objects.filter(donation=won).values_list("kind", flat=True)) == {
        K.GIFT,
        K.MATCH,
        K.MATCH_REVERSAL,
        K.DISPUTE_WITHDRAWAL,
        K.DISPUTE_REINSTATEMENT,
    }
    assert fresh(refunded).refunded == Money(60, "USD")
    assert fresh(refunded).status == S.REFUNDED
    _assert_totals_are_the_ledger(project)
    t = FundingTotals.objects.get(project=project)
    assert (t.raised.amount, t.matched.amount) == (Decimal(75), Decimal(75))


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE donations_ledgerentry SET amount = amount + 1 WHERE id = %s",
        "UPDATE donations_ledgerentry SET project_amount = 0 WHERE id = %s",
        "UPDATE donations_ledgerentry SET kind = 'refund' WHERE id = %s",
        "DELETE FROM donations_ledgerentry WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_or_delete_a_row(project: Project, sql: str) -> None:
    row = _row(project)
    with (
        pytest.raises(IntegrityError, match="ledger entries are never"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [row.pk])
    assert LedgerEntry.objects.get(pk=row.pk).amount == row.amount


def test_the_orm_cannot_delete_or_save_over_a_row(project: Project) -> None:
    row = _row(project)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(pk=row.pk).delete()
    row.note = "edited"
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()


def test_the_payout_and_balance_transaction_are_filled_in_once(project: Project) -> None:
    row = _row(project)
    assert row.balance_transaction_id == ""
    first, second = PayoutFactory.create_batch(2)
    LedgerEntry.objects.filter(pk=row.pk).update(payout=first, balance_transaction_id="txn_1")
    row.refresh_from_db()
    assert (row.payout_id, row.balance_transaction_id) == (first.pk, "txn_1")
    for change in ({"payout": second}, {"payout": None}, {"balance_transaction_id": "txn_2"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            LedgerEntry.objects.filter(pk=row.pk).update(**change)


def test_the_migration_writes_rows_for_gifts_from_before_the_ledger(project: Project) -> None:
    pool_open(project, cap="50")
    kept, part, lost = (gift(project, a) for a in ("40", "30", "20"))
    for d in (kept, part, lost):
        succeed(d)
    refund(part, Decimal("12.50"))
    dispute(lost, "needs_response")
    dispute(lost, "lost")
    foreign = DonationFactory.create(project=project, amount=Money(Decimal(10), "EUR"))
    succeed(foreign)  # provisional: no settled amount yet, no gift row
    before = FundingTotals.objects.get(project=project)
    with connection.cursor() as cursor:  # as it was before the ledger (TRUNCATE is allowed)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks left pending
        cursor.execute("TRUNCATE donations_ledgerentry CASCADE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    module = importlib.import_module("donations.migrations.0010_ledger_backfill")
    module.forwards(django_apps, None)

    _assert_totals_are_the_ledger(project)
    after = FundingTotals.objects.get(project=project)
    assert (after.raised, after.matched) == (before.raised, before.matched)
    assert not LedgerEntry.objects.filter(donation=foreign).exists()
    kinds = dict(
        LedgerEntry.objects.filter(donation=part, kind=K.REFUND).values_list("kind", "amount")
    )
    assert kinds == {K.REFUND: Decimal("-12.50")}
    assert LedgerEntry.objects.filter(donation=lost, kind=K.DISPUTE_WITHDRAWAL).exists()
    assert LedgerEntry.objects.filter(kind__in=LedgerEntry.MATCH_KINDS).count() == (
        MatchAllocation.objects.count()
    )
