"""Matching allocation throughput: 200 gifts completing at once on one pool row.

Each round creates 200 pending gifts and completes them all at the same moment through the
lifecycle service (the code path a processed ``charge.succeeded`` takes): PROCESSES worker
processes with THREADS threads each, every thread with its own PostgreSQL connection, all
released by one barrier. The matching run has an open 2X pool that covers 60 % of the gifts,
so every completion locks the pool row and the last ones find it dry; the baseline run is the
same with no pool. Reports allocations and completions per second, their ratio, and whether
any run over-allocated, matched a gift twice, or left totals that disagree with the ledger.
Receipts are queued (not sent) as in production, where a worker sends them.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from decimal import Decimal
from typing import Any

from benchmarks import common

GIFTS = 200
PROCESSES = int(os.environ.get("BENCH_PROCESSES", "8"))
THREADS = int(os.environ.get("BENCH_THREADS", "5"))  # 40 connections: PostgreSQL allows 100
ROUNDS = 3
GIFT = Decimal(25)


def _complete(charge: dict[str, Any]) -> None:
    """The whole completion: donation lock, transition, totals, matching, log, commit."""
    from donations.providers.stripe_payloads import payment_fact
    from donations.services import lifecycle

    lifecycle.donation_charge_sync(
        donation_id=charge["metadata"]["donation_id"], payment=payment_fact(charge)
    )


def _load_donation(charge: dict[str, Any]) -> Any:
    """Set-up for the allocation-only mode, done before the start: in the real path the
    transition has already locked and loaded the donation when it calls the pool."""
    from donations.models import Donation

    return Donation.objects.select_related("project").get(pk=charge["metadata"]["donation_id"])


def _allocate_only(donation: Any) -> None:
    """Only the allocation: a transaction that locks the pool row and writes the ledger."""
    from django.db import transaction

    from donations.services import matching

    with transaction.atomic():
        matching.pool_allocate(donation=donation)


def _worker(charges: list[dict[str, Any]], mode: str, start: Any, done: Any) -> None:
    from django.db import connection

    work = _allocate_only if mode == "allocate" else _complete

    connection.close()  # never share the parent's socket
    errors: list[str] = []

    def one_thread(
        batch: list[dict[str, Any]], ready: threading.Barrier, go: threading.Barrier
    ) -> None:
        connection.ensure_connection()
        items = [_load_donation(c) for c in batch] if mode == "allocate" else batch
        ready.wait()
        go.wait()
        for item in items:
            try:
                work(item)
            except Exception as exc:  # noqa: BLE001 - reported, fails the benchmark
                errors.append(repr(exc))
        connection.close()

    ready, go = threading.Barrier(THREADS + 1), threading.Barrier(THREADS + 1)
    threads = [
        threading.Thread(target=one_thread, args=(charges[i::THREADS], ready, go))
        for i in range(THREADS)
    ]
    for t in threads:
        t.start()
    ready.wait()  # this process's threads are connected and set up
    start.wait()  # so is every other process: go together
    go.wait()
    for t in threads:
        t.join()
    done.put(errors)


def _round(mode: str) -> dict[str, Any]:
    """mode: "baseline" (completions, no pool), "matching" (completions, open pool) or
    "allocate" (gifts already succeeded; only the pool allocation runs)."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone
    from djmoney.money import Money

    from donations.models import Donation, MatchAllocation, MatchingPool
    from donations.money import to_minor
    from projects.models import FundingTotals

    now = timezone.now()
    project = common.bench_project()
    pool = None
    if mode != "baseline":
        # Enough for 60 % of the gifts: the last ones find it dry (partial, then none).
        pool = MatchingPool.objects.create(
            sponsor_name="Bench",
            cap=Money(GIFT * GIFTS * 6 / 10, "USD"),
            ratio=Decimal(1),
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=1),
        )
        pool.projects.add(project)
        others = MatchingPool.objects.open_for(project, now).exclude(pk=pool.pk)
        if others.exists():
            raise RuntimeError(
                f"other open pools cover the benchmark's project ({list(others)}): close them"
            )
    done_already = mode == "allocate"
    gifts = Donation.objects.bulk_create(
        Donation(
            project=project,
            amount=Money(GIFT, "USD"),
            donor_name="Bench",
            donor_email=f"{i}@bench.example",
            status="succeeded" if done_already else "pending",
            succeeded_at=now if done_already else None,
            charged=Money(GIFT, "USD") if done_already else None,
            counted=GIFT if done_already else Decimal(0),
        )
        for i in range(GIFTS)
    )
    charges = [
        {
            "id": f"ch_{d.pk.hex}",
            "object": "charge",
            "amount": to_minor(d.amount),
            "amount_refunded": 0,
            "currency": "usd",
            "paid": True,
            "status": "succeeded",
            "payment_intent": f"pi_{d.pk.hex}",
            "balance_transaction": None,
            "metadata": {"donation_id": str(d.pk)},
        }
        for d in gifts
    ]
    connection.close()
    ctx = mp.get_context("fork")
    start = ctx.Barrier(PROCESSES + 1)
    done = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(charges[i::PROCESSES], mode, start, done))
        for i in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    start.wait()
    began = time.perf_counter()
    errors = [e for _ in procs for e in done.get()]
    elapsed = time.perf_counter() - began
    for p in procs:
        p.join()

    result: dict[str, Any] = {
        "seconds": round(elapsed, 3),
        "per_s": round(GIFTS / elapsed, 1),  # calls (completions, or pool consultations)
        "errors": errors[:3],
    }
    ok = not errors
    if mode != "allocate":
        totals = FundingTotals.objects.get(project=project)
        succeeded = Donation.objects.filter(project=project, status="succeeded").count()
        ok = ok and succeeded == GIFTS and totals.raised.amount == GIFT * GIFTS
    if pool is not None:
        pool.refresh_from_db()
        rows = MatchAllocation.objects.filter(pool=pool)
        ledger = sum((a.amount for a in rows), Decimal(0))
        allocations = rows.filter(kind="allocate")
        result.update(
            allocations=allocations.count(),
            # Only the calls that found money in the pool allocate; the rest find it dry.
            allocations_per_s=round(allocations.count() / elapsed, 1),
            over_allocated=pool.allocated > pool.cap.amount or ledger != pool.allocated,
            double_matched=allocations.count() != allocations.values("donation").distinct().count(),
            pool_remaining=str(pool.remaining),
        )
        ok = ok and pool.remaining == 0 and allocations.count() == GIFTS * 6 // 10
        if mode == "matching":
            totals = FundingTotals.objects.get(project=project)
            ok = ok and totals.matched.amount == pool.allocated
    result["consistent"] = ok
    return result


def run() -> dict[str, Any]:
    common.django_setup(eager=False)  # receipts are queued (memory broker here), not sent
    modes = ("baseline", "matching", "allocate")
    rounds = [{mode: _round(mode) for mode in modes} for _ in range(ROUNDS)]

    from benchmarks.bench_webhooks import _purge_queue

    _purge_queue()  # the queued receipts (every queue): no worker runs in this benchmark

    def median(mode: str, key: str = "per_s") -> float:
        return sorted(r[mode][key] for r in rounds)[ROUNDS // 2]

    return {
        "gifts_per_round": GIFTS,
        "concurrency": f"{PROCESSES} processes x {THREADS} threads, one connection each",
        "rounds": rounds,
        "completions_per_s_without_matching": median("baseline"),
        "completions_per_s_with_matching": median("matching"),
        "matching_vs_without": round(median("matching") / median("baseline"), 3),
        # Counted allocations (60 % of the calls find money), not calls.
        "allocations_per_s_allocation_only": median("allocate", "allocations_per_s"),
        "pool_calls_per_s_allocation_only": median("allocate"),
        # The same run's baseline: a whole completion without any pool.
        "allocations_vs_completions_without_matching": round(
            median("allocate", "allocations_per_s") / median("baseline"), 3
        ),
        "any_over_allocation": any(r[m].get("over_allocated") for r in rounds for m in r),
        "any_double_match": any(r[m].get("double_matched") for r in rounds for m in r),
        "all_consistent": all(r[m]["consistent"] for r in rounds for m in r),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
