"""2X matching: the one place that allocates, reverses and restores matches.

Called by the lifecycle inside a donation's transition, after the donation row is locked and
before the project's totals are moved; it locks the pool rows itself (always in the pools'
allocation order, so two gifts sharing pools cannot deadlock). The ledger only grows; each
pool row carries the running sum, which a database constraint keeps between zero and the cap.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db.models import F

from donations.models import Donation, MatchAllocation, MatchingPool

CENT = Decimal("0.01")
MATCHABLE = {Donation.Status.SUCCEEDED, Donation.Status.PARTIALLY_REFUNDED}


def _eligible(d: Donation) -> bool:
    if d.parent_id is not None and not settings.DONATION_MATCH_EVERY_INSTALMENT:
        return False  # monthly plans: only the first gift, unless configured otherwise
    return d.status in MATCHABLE and d.counted > 0 and d.succeeded_at is not None


def _kept_share(d: Donation) -> Decimal:
    """The part of the original match the gift still deserves: refunds reverse their share,
    an open or lost dispute reverses all, a won dispute restores."""
    if d.status not in MATCHABLE:
        return Decimal(0)
    charged = d.charged if d.charged is not None else d.total_charge
    if charged.amount <= 0:
        return Decimal(0)
    return max(Decimal(charged.amount - d.refunded.amount) / Decimal(charged.amount), Decimal(0))


def _move(pool_id: int, d: Donation, kind: str, amount: Decimal, note: str) -> None:
    MatchAllocation.objects.create(pool_id=pool_id, donation=d, kind=kind, amount=amount, note=note)
    # The row is locked by the caller; F() keeps the write relative all the same.
    MatchingPool.objects.filter(pk=pool_id).update(allocated=F("allocated") + amount)


def pool_allocate(*, donation: Donation) -> Decimal:
    """Match a gift from the pools open for its project when it succeeded, in order; a pool
    that runs dry gives a partial match and the next pool continues. Returns the total."""
    d = donation
    assert d.succeeded_at is not None
    # One statement finds and locks the open pools, in allocation order (so two gifts sharing
    # pools lock them in the same order and cannot deadlock).
    pools = list(MatchingPool.objects.open_for(d.project, d.succeeded_at).select_for_update())
    unmatched_gift = d.counted
    total = Decimal(0)
    for pool in pools:
        if unmatched_gift <= 0:
            break
        want = (pool.ratio * unmatched_gift).quantize(CENT, ROUND_DOWN)
        give = min(want, pool.remaining)
        if give <= 0:
            continue
        _move(pool.pk, d, MatchAllocation.Kind.ALLOCATE, give, f"{pool.multiplier_label} match")
        total += give
        unmatched_gift -= give / pool.ratio
    return total


def match_sync(*, donation: Donation) -> Decimal:
    """Bring a gift's live match in line with its state; returns the change in matched money.

    Idempotent: the target is computed from the donation's state and the ledger, so running
    it again after a replayed event writes nothing.
    """
    d = donation
    rows = list(MatchAllocation.objects.filter(donation=d).values_list("pool_id", "kind", "amount"))
    if not any(kind == MatchAllocation.Kind.ALLOCATE for _, kind, _ in rows):
        return pool_allocate(donation=d) if _eligible(d) else Decimal(0)

    original: dict[int, Decimal] = defaultdict(Decimal)
    live: dict[int, Decimal] = defaultdict(Decimal)
    for pool_id, kind, amount in rows:
        live[pool_id] += amount
        if kind == MatchAllocation.Kind.ALLOCATE:
            original[pool_id] += amount
    share = _kept_share(d)
    change = Decimal(0)
    pools = MatchingPool.objects.filter(pk__in=original).order_by("ends_at", "id")
    for pool in pools.select_for_update():
        target = (original[pool.pk] * share).quantize(CENT, ROUND_DOWN)
        if target < live[pool.pk]:
            amount = target - live[pool.pk]
            _move(pool.pk, d, MatchAllocation.Kind.REVERSE, amount, f"{d.status}")
            change += amount
        elif target > live[pool.pk]:
            # A won dispute: restore what is still in the pool, never past the cap.
            amount = min(target - live[pool.pk], pool.remaining)
            if amount > 0:
                _move(pool.pk, d, MatchAllocation.Kind.RESTORE, amount, "dispute won")
                change += amount
    return change


def donation_match_total(donation: Donation) -> Decimal:
    return sum((a.amount for a in MatchAllocation.objects.filter(donation=donation)), Decimal(0))
