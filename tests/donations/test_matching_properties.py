"""Matching invariants: property-based sequences and real concurrency on PostgreSQL."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import close_old_connections, connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from donations.models import Donation, MatchAllocation, MatchingPool
from projects.models import FundingTotals
from tests.donations.matching_helpers import (
    dispute,
    gift,
    ledger_sum,
    live_match,
    pool_open,
    refund,
    succeed,
)

amounts = st.decimals(min_value=1, max_value=400, places=2)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("give"), amounts),
        st.tuples(st.just("refund"), st.integers(0, 30), st.sampled_from(["0.25", "0.5", "1"])),
        st.tuples(
            st.just("dispute"),
            st.integers(0, 30),
            st.sampled_from(["needs_response", "won", "lost"]),
        ),
    ),
    min_size=1,
    max_size=25,
)


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    caps=st.lists(st.decimals(min_value=1, max_value=1500, places=2), min_size=1, max_size=2),
    ratios=st.lists(st.sampled_from(["1", "2", "0.5"]), min_size=2, max_size=2),
    sequence=ops,
)
def test_any_sequence_keeps_every_pool_within_its_cap(
    make_project: Any, caps: list[Decimal], ratios: list[str], sequence: list[Any]
) -> None:
    project = make_project()
    pools = [pool_open(project, cap=str(c), ratio=r) for c, r in zip(caps, ratios, strict=False)]
    gifts: list[Donation] = []
    # Gifts the (single) pool could match in full at every step that touched their match.
    exact: set[Any] = set()

    def room() -> Decimal:
        pools[0].refresh_from_db()
        return pools[0].remaining

    for op in sequence:
        if op[0] == "give":
            d = gift(project, str(op[1]))
            if room() >= pools[0].ratio * op[1]:
                exact.add(d.pk)
            succeed(d)
            gifts.append(d)
        elif gifts:
            d = gifts[op[1] % len(gifts)]
            d.refresh_from_db()
            if op[0] == "refund" and d.status != Donation.Status.DISPUTED:
                refund(d, (d.total_charge.amount * Decimal(op[2])).quantize(Decimal("0.01")))
            elif op[0] == "dispute" and (op[2] == "needs_response" or d.dispute_id):
                if op[2] == "won" and room() < pools[0].ratio * d.amount.amount:
                    exact.discard(d.pk)  # a restore can only take what is left in the pool
                dispute(d, op[2])
        for pool in pools:
            pool.refresh_from_db()
            live = ledger_sum(pool)
            # Never over the cap, never negative; the row's running sum is the ledger's sum.
            assert Decimal(0) <= live == pool.allocated <= pool.cap.amount
    for d in gifts:
        d.refresh_from_db()
        match = live_match(d)
        assert match >= 0
        if len(pools) == 1 and d.pk in exact:
            # Where the pool did not run dry: match == ratio x matched money (to the cent).
            expected = pools[0].ratio * d.counted
            assert abs(match - expected) <= Decimal("0.02") * (1 + pools[0].ratio), (d, match)
    totals = FundingTotals.objects.get(project=project)
    assert totals.matched.amount == sum((ledger_sum(p) for p in pools), Decimal(0))
    assert totals.raised.amount == sum((g.counted for g in gifts), Decimal(0))


def _complete_together(donations: list[Donation]) -> list[BaseException]:
    barrier = threading.Barrier(len(donations))
    errors: list[BaseException] = []

    def run(d: Donation) -> None:
        try:
            barrier.wait(timeout=30)
            succeed(d)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(d,)) for d in donations]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run", range(3))
def test_fifty_gifts_completing_at_once_never_over_allocate(make_project: Any, run: int) -> None:
    """50 threads, each with its own connection, complete gifts at the same moment against a
    pool that can match only part of them."""
    project = make_project()
    pool = pool_open(project, cap="333.33")
    donations = [gift(project, "10") for _ in range(50)]
    errors = _complete_together(donations)
    assert errors == []
    pool.refresh_from_db()
    assert pool.allocated == pool.cap.amount  # ends exactly at zero remaining
    assert ledger_sum(pool) == Decimal("333.33")
    matched = MatchAllocation.objects.filter(pool=pool, kind="allocate")
    assert (
        matched.count() == matched.values("donation").distinct().count() == 34
    )  # 33 full + 1 partial
    totals = FundingTotals.objects.get(project=project)
    assert totals.matched.amount == Decimal("333.33")
    assert totals.raised.amount == Decimal("500.00")
    assert totals.gift_count == 50
    assert MatchingPool.objects.get(pk=pool.pk).remaining == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run", range(5))
def test_donors_giving_several_gifts_at_once_are_counted_once(make_project: Any, run: int) -> None:
    """Five donors each complete four gifts at the same moment (20 threads): the totals row
    is never read-then-written, and a donor is one donor however their gifts interleave."""
    project = make_project()
    donations = [gift(project, "10", donor_email=f"donor{n % 5}@example.org") for n in range(20)]
    assert _complete_together(donations) == []
    totals = FundingTotals.objects.get(project=project)
    assert totals.gift_count == 20
    assert totals.donor_count == 5, totals.donor_count
    assert totals.raised.amount == Decimal("200.00")
