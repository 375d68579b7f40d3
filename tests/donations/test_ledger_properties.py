"""The money core's invariants for any sequence of events: gifts in several currencies,
refunds, failed refunds, disputes won and lost, matches and payouts, all through Stripe's
signed webhooks and the real client against the recorded-response server.

After every sequence: each project's totals are its ledger's sums, each gift counts what its
rows add up to, every pool's allocations equal its running total and never pass its cap,
every payout's lines sum to its amount, and reconcile_check finds nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from donations.models import Donation, LedgerEntry, MatchAllocation, MatchingPool, Payout
from donations.services.reconcile import reconcile_check
from projects.models import FundingTotals
from tests.donations.event_helpers import Webhooks, charge_of, fresh, gift_start
from tests.donations.matching_helpers import pool_open

S = Donation.Status

actions = st.lists(
    st.one_of(
        st.tuples(
            st.just("give"), st.integers(100, 40_000), st.sampled_from(["USD", "EUR", "GBP"])
        ),
        st.tuples(st.just("refund"), st.integers(0, 20), st.sampled_from([0.2, 0.5, 1.0])),
        st.tuples(st.just("refund_fails"), st.integers(0, 20)),
        st.tuples(st.just("dispute"), st.integers(0, 20), st.sampled_from(["won", "lost", "open"])),
        st.tuples(st.just("payout")),
    ),
    min_size=1,
    max_size=12,
)
RATES = {"USD": None, "EUR": 1.0832, "GBP": 1.2741}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=actions, cap=st.integers(50, 600))
def test_ledger_totals_pools_and_payouts_agree_after_any_sequence(
    hooks: Webhooks, make_project: Any, fake_stripe: Any, steps: list[tuple[Any, ...]], cap: int
) -> None:
    project = make_project()
    pool = pool_open(project, cap=str(cap))
    gifts: list[tuple[Donation, str]] = []  # (donation, charge id)
    unpaid_out: list[str] = []  # balance transactions no payout has carried yet
    payouts: list[str] = []
    for step in steps:
        kind = step[0]
        if kind == "give":
            cents, currency = step[1], step[2]
            d = gift_start(project, str(Decimal(cents) / 100), currency)
            rate = RATES[currency]
            settled = round(cents * rate) if rate else None
            session = fake_stripe.pay(
                d.checkout_session_id,
                settled_currency="usd" if rate else None,
                exchange_rate=rate,
                settled_amount=settled,
            )
            charge = charge_of(fake_stripe, d.checkout_session_id)
            hooks.deliver("checkout.session.completed", session)
            hooks.deliver("charge.updated", charge)
            gifts.append((d, charge["id"]))
            unpaid_out.append(charge["balance_transaction"])
        elif kind in {"refund", "refund_fails", "dispute"} and gifts:
            d, charge_id = gifts[step[1] % len(gifts)]
            charge = fake_stripe.get(charge_id)
            if charge.get("disputed"):
                continue
            if kind == "refund":
                left = charge["amount"] - charge["amount_refunded"]
                more = max(1, int(left * step[2]))
                if left <= 0:
                    continue
                charge = fake_stripe.refund(charge_id, charge["amount_refunded"] + more)
                refund = fake_stripe.get(charge["_refunds"][0])
                unpaid_out.append(refund["balance_transaction"])
                hooks.deliver("charge.refunded", charge)
            elif kind == "refund_fails":
                live = [
                    r
                    for r in (fake_stripe.get(i) for i in charge.get("_refunds") or [])
                    if r["status"] == "succeeded"
                ]
                if not live:
                    continue
                failed = fake_stripe.refund_fails(live[0]["id"])
                unpaid_out.append(failed["failure_balance_transaction"])
                hooks.deliver("charge.refund.updated", failed)
            else:
                if charge["amount_refunded"]:
                    continue  # Stripe disputes what was not refunded; keep it simple
                dispute = fake_stripe.dispute(charge_id, "needs_response")
                hooks.deliver("charge.dispute.created", dispute)
                unpaid_out.append(dispute["balance_transactions"][0]["id"])
                if step[2] == "won":
                    won = fake_stripe.dispute_won(dispute["id"])
                    unpaid_out.append(won["balance_transactions"][1]["id"])
                    hooks.deliver("charge.dispute.closed", won)
                elif step[2] == "lost":
                    hooks.deliver(
                        "charge.dispute.closed", fake_stripe.update(dispute["id"], status="lost")
                    )
        elif kind == "payout" and unpaid_out:
            payout = fake_stripe.payout(unpaid_out)
            hooks.deliver("payout.paid", payout)
            payouts.append(payout["id"])
            unpaid_out = []

    totals = FundingTotals.objects.get(project=project)
    ledger = LedgerEntry.objects.filter(project=project)
    raised = ledger.filter(kind__in=LedgerEntry.RAISED_KINDS).aggregate(s=Sum("project_amount"))
    matched = ledger.filter(kind__in=LedgerEntry.MATCH_KINDS).aggregate(s=Sum("project_amount"))
    assert totals.raised.amount == (raised["s"] or 0)
    assert totals.matched.amount == (matched["s"] or 0)
    for d, _ in gifts:
        rows = ledger.filter(donation=d, kind__in=LedgerEntry.RAISED_KINDS)
        assert fresh(d).counted == (rows.aggregate(s=Sum("project_amount"))["s"] or 0)
        assert fresh(d).counted >= 0
    pool = MatchingPool.objects.get(pk=pool.pk)
    allocated = MatchAllocation.objects.filter(pool=pool).aggregate(s=Sum("amount"))["s"] or 0
    assert pool.allocated == allocated <= pool.cap.amount
    for payout_id in payouts:
        stored = Payout.objects.get(stripe_id=payout_id)
        assert stored.lines_status == Payout.Lines.RECONCILED
        assert stored.lines_total == stored.amount.amount
    report = reconcile_check(unpaid_after_days=365)
    assert report.ok, report.discrepancies
