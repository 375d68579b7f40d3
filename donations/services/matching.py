"""2X matching: the one place that allocates, reverses and restores matches.

Called by the lifecycle inside a donation's transition, after the donation row is locked and
before the project's totals are moved; it locks the pool rows itself (always in the pools'
allocation order, so two gifts sharing pools cannot deadlock). The ledger only grows; each
pool row carries the running sum, which a database constraint keeps between zero and the cap.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from donations.models import Donation, MatchAllocation, MatchingPool
from donations.money import quantum
from donations.services.gift_value import gift_value, kept_share
from donations.services.ledger import match_record

MATCHABLE = {Donation.Status.SUCCEEDED, Donation.Status.PARTIALLY_REFUNDED}


def _countable(d: Donation) -> bool:
    """The gift counts towards its project now: the moment its match is decided."""
    return d.status in MATCHABLE and d.counted > 0 and d.succeeded_at is not None


def _instalment_matched(d: Donation) -> bool:
    """Monthly plans: only the first gift is matched, unless configured otherwise."""
    return d.parent_id is None or settings.DONATION_MATCH_EVERY_INSTALMENT


def _target_share(d: Donation) -> Decimal:
    """The part of the original match the gift still deserves: refunds reverse their share,
    an open or lost dispute reverses all, a won dispute restores."""
    return kept_share(d) if d.status in MATCHABLE else Decimal(0)


def match_split(*, gift: Decimal, pools: Sequence[tuple[Decimal, Decimal, str]]) -> list[Decimal]:
    """The 2X match rule, the one place it is written: what each pool gives a gift of
    `gift` (in the project's currency), for pools given as (ratio, remaining, currency) in
    allocation order. Each pool gives ratio x what is still unmatched, rounded down to its
    currency's minor unit (a 0.5 match of 3,001 yen is 1,500 yen), never more than it has
    left; a pool that runs dry gives a partial match and the next one continues.

    Used by the allocation (_allocate) and by the figures the donate form shows
    (selectors.MatchOffer.match_for, and through it the page's script, which gets them
    from the server: donations.views.gift_quote_json)."""
    unmatched = Decimal(gift)
    gives = []
    for ratio, remaining, currency in pools:
        give = Decimal(0)
        if unmatched > 0:
            give = min((ratio * unmatched).quantize(quantum(currency), ROUND_DOWN), remaining)
        if give > 0:
            unmatched -= give / ratio
        gives.append(max(give, Decimal(0)))
    return gives


def _move(pool_id: int, d: Donation, kind: str, amount: Decimal, note: str) -> None:
    allocation = MatchAllocation.objects.create(
        pool_id=pool_id, donation=d, kind=kind, amount=amount, note=note
    )
    match_record(allocation, d)  # the money ledger's row, in the same transaction
    # The row is locked by the caller; F() keeps the write relative all the same.
    MatchingPool.objects.filter(pk=pool_id).update(allocated=F("allocated") + amount)


def _allocate(d: Donation) -> dict[int, Decimal]:
    """Match the gift, as it was before any refund, from the pools open for its project when
    it succeeded, in order; a pool that runs dry gives a partial match and the next pool
    continues. Refunds already made are then reversed like later ones (match_sync), so the
    result does not depend on whether the refund was heard of before or after the success."""
    assert d.succeeded_at is not None
    # One statement finds and locks the open pools, in allocation order (so two gifts sharing
    # pools lock them in the same order and cannot deadlock).
    pools = list(MatchingPool.objects.open_for(d.project, d.succeeded_at).select_for_update())
    gross, _ = gift_value(d)
    # Rounded as the gift is counted on the thermometer, so a 2X match equals the gift.
    unmatched_gift = gross.quantize(quantum(d.project.currency), ROUND_HALF_UP)
    gives = match_split(
        gift=unmatched_gift, pools=[(p.ratio, p.remaining, p.currency) for p in pools]
    )
    given: dict[int, Decimal] = {}
    for pool, give in zip(pools, gives, strict=True):
        if give > 0:
            _move(pool.pk, d, MatchAllocation.Kind.ALLOCATE, give, f"{pool.multiplier_label} match")
            given[pool.pk] = give
    return given


def pool_allocate(*, donation: Donation) -> Decimal:
    """Match a succeeded gift from the open pools (see _allocate); returns the total."""
    return sum(_allocate(donation).values(), Decimal(0))


def match_sync(*, donation: Donation) -> Decimal:
    """Bring a gift's live match in line with its state; returns the change in matched money.

    The pools are consulted once per gift, when it first counts: a gift that found them dry
    is not matched later when money returns to a pool (its donor was told there was no
    match). Idempotent: the target is computed from the donation's state and the ledger, so
    running it again after a replayed event writes nothing.
    """
    d = donation
    rows = list(MatchAllocation.objects.filter(donation=d).values_list("pool_id", "kind", "amount"))
    change = Decimal(0)
    if not any(kind == MatchAllocation.Kind.ALLOCATE for _, kind, _ in rows):
        if d.match_decided_at is not None or not _countable(d):
            return Decimal(0)
        d.match_decided_at = timezone.now()  # saved by the caller with the donation
        if not _instalment_matched(d):
            return Decimal(0)  # decided too: turning the setting on later does not reach back
        given = _allocate(d)
        change = sum(given.values(), Decimal(0))
        if not given or _target_share(d) == 1:
            return change
        rows = [
            (pool_id, MatchAllocation.Kind.ALLOCATE, amount) for pool_id, amount in given.items()
        ]

    original: dict[int, Decimal] = defaultdict(Decimal)
    live: dict[int, Decimal] = defaultdict(Decimal)
    for pool_id, kind, amount in rows:
        live[pool_id] += amount
        if kind == MatchAllocation.Kind.ALLOCATE:
            original[pool_id] += amount
    share = _target_share(d)
    pools = MatchingPool.objects.filter(pk__in=original).order_by("ends_at", "id")
    for pool in pools.select_for_update():
        target = (original[pool.pk] * share).quantize(quantum(pool.currency), ROUND_DOWN)
        if target < live[pool.pk]:
            amount = target - live[pool.pk]
            _move(pool.pk, d, MatchAllocation.Kind.REVERSE, amount, f"{d.status}")
            change += amount
        elif target > live[pool.pk]:
            # A won dispute: restore what is still in the pool, never past the cap.
            amount = min(target - live[pool.pk], pool.remaining)
            if amount > 0:
                note = (
                    "money back" if d.dispute_status not in {"won", "prevented"} else "dispute won"
                )
                _move(pool.pk, d, MatchAllocation.Kind.RESTORE, amount, note)
                change += amount
    return change


def donation_match_total(donation: Donation) -> Decimal:
    return sum((a.amount for a in MatchAllocation.objects.filter(donation=donation)), Decimal(0))
