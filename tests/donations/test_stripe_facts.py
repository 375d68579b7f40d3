"""Stripe's money facts through the real client and recorded responses: each refund's own
balance transaction, a failed refund giving the money back, a dispute's withdrawal and fee,
and the reinstatement of a won one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from djmoney.money import Money

from donations.models import Donation, LedgerEntry
from projects.models import FundingTotals, Project
from tests.donations.event_helpers import Webhooks, charge_of, fresh, gift_start, requests_to

K = LedgerEntry.Kind
S = Donation.Status


def _rows(d: Donation) -> dict[str, tuple[Money, Money | None, Decimal, str]]:
    return {
        r.kind: (r.amount, r.settled, r.project_amount, r.balance_transaction_id)
        for r in LedgerEntry.objects.filter(donation=d).exclude(kind__in=LedgerEntry.MATCH_KINDS)
    }


def _raised(project: Project) -> Decimal:
    return Decimal(FundingTotals.objects.get(project=project).raised.amount)


def test_a_refund_records_its_own_balance_transaction_and_a_failed_one_gives_it_back(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    d = gift_start(project, "50")
    hooks.deliver("checkout.session.completed", fake_stripe.pay(d.checkout_session_id))
    charge = fake_stripe.refund(charge_of(fake_stripe, d.checkout_session_id)["id"], 2000)
    refund = fake_stripe.get(charge["_refunds"][0])
    hooks.deliver("charge.refunded", charge)

    d = fresh(d)
    assert (d.status, d.refunded, _raised(project)) == (S.PARTIALLY_REFUNDED, Money(20, "USD"), 30)
    amount, settled, counted, bt = _rows(d)[K.REFUND]
    assert (amount, settled, counted, bt) == (
        Money(-20, "USD"),
        Money(-20, "USD"),
        Decimal(-20),
        refund["balance_transaction"],
    )
    # Stripe keeps the original fee: net is 50 - 1.75 - 20.
    assert (d.stripe_fee, d.net) == (Money("1.75", "USD"), Money("28.25", "USD"))
    fetched = requests_to(fake_stripe, "/v1/charges/")[-1]
    assert "refunds.data.balance_transaction" in fetched["params"]["expand"]

    failed = fake_stripe.refund_fails(refund["id"])
    hooks.deliver("charge.refund.updated", failed)

    d = fresh(d)
    assert (d.status, d.refunded, _raised(project)) == (S.SUCCEEDED, Money(0, "USD"), 50)
    amount, settled, counted, bt = _rows(d)[K.REFUND_FAILED]
    assert (amount, settled, counted, bt) == (
        Money(20, "USD"),
        Money(20, "USD"),
        Decimal(20),
        failed["failure_balance_transaction"],
    )
    assert d.net == Money("48.25", "USD")
    hooks.deliver("refund.failed", failed)  # the same news again changes nothing
    assert LedgerEntry.objects.filter(donation=d, kind=K.REFUND_FAILED).count() == 1


def test_a_dispute_withdraws_the_money_and_its_fee_and_a_win_reinstates_the_money(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    d = gift_start(project, "50")
    hooks.deliver("checkout.session.completed", fake_stripe.pay(d.checkout_session_id))
    dispute = fake_stripe.dispute(
        charge_of(fake_stripe, d.checkout_session_id)["id"], "needs_response"
    )
    hooks.deliver("charge.dispute.created", dispute)

    d = fresh(d)
    out = dispute["balance_transactions"][0]
    rows = _rows(d)
    assert rows[K.DISPUTE_WITHDRAWAL] == (
        Money(-50, "USD"),
        Money(-50, "USD"),
        Decimal(-50),
        out["id"],
    )
    assert rows[K.DISPUTE_FEE] == (Money(-15, "USD"), Money(-15, "USD"), Decimal(0), out["id"])
    assert (d.status, _raised(project)) == (S.DISPUTED, 0)
    assert (d.stripe_fee, d.net) == (Money("16.75", "USD"), Money("-16.75", "USD"))

    won = fake_stripe.dispute_won(dispute["id"])
    hooks.deliver("charge.dispute.closed", won)

    d = fresh(d)
    back = won["balance_transactions"][1]
    assert _rows(d)[K.DISPUTE_REINSTATEMENT] == (
        Money(50, "USD"),
        Money(50, "USD"),
        Decimal(50),
        back["id"],
    )
    assert (d.status, _raised(project)) == (S.SUCCEEDED, 50)
    assert d.net == Money("33.25", "USD")  # the dispute fee stays with Stripe


def test_a_lost_dispute_leaves_net_at_what_was_kept(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    d = gift_start(project, "50")
    hooks.deliver("checkout.session.completed", fake_stripe.pay(d.checkout_session_id))
    dispute = fake_stripe.dispute(
        charge_of(fake_stripe, d.checkout_session_id)["id"], "needs_response"
    )
    hooks.deliver("charge.dispute.closed", fake_stripe.update(dispute["id"], status="lost"))
    d = fresh(d)
    assert (d.status, d.counted, d.net) == (S.REFUNDED, 0, Money("-16.75", "USD"))
