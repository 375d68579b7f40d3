"""Matching allocation throughput: 200 gifts completing at once on one pool row.

Measures completions per second with an open 2X pool (every completion locks the pool row
and writes an allocation) against the same run with no pool, and checks that no run
over-allocates. PostgreSQL here allows 100 connections, so the 200 completions are released
together onto 40 threads, each with its own connection.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/campaign python benchmarks/bench_matching.py
"""

from __future__ import annotations

import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GIFTS = 200
THREADS = 40
ROUNDS = 3
BENCH_DB = "campaign_bench_matching"


def _bench_database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/campaign")
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{BENCH_DB}"))


def _setup() -> None:
    import psycopg2

    url = _bench_database_url()
    admin = urlsplit(url)._replace(path="/postgres")
    conn = psycopg2.connect(urlunsplit(admin))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{BENCH_DB}"')
    conn.close()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaign.settings")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.pop("REDIS_URL", None)
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _round(with_pool: bool) -> dict[str, Any]:
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone
    from djmoney.money import Money

    from donations.models import Donation, MatchAllocation, MatchingPool
    from donations.money import to_minor
    from donations.services import lifecycle
    from projects.models import FundingTotals, Project

    n = Project.objects.count()
    project = Project.objects.create(
        title=f"Bench {n}", slug=f"bench-{n}-{time.time_ns()}", status="published",
        summary="-", place="-", country="-", cost=Money(10**7, "USD"), acres=Decimal(1000),
    )
    FundingTotals.objects.create(project=project, raised=Money(0, "USD"), matched=Money(0, "USD"))
    pool = None
    if with_pool:
        now = timezone.now()
        # Enough for 60 % of the gifts: the last completions find it dry.
        pool = MatchingPool.objects.create(
            sponsor_name="Bench", cap=Money(Decimal(GIFTS * 25 * 6 // 10), "USD"),
            ratio=Decimal(1), starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1),
        )
        pool.projects.add(project)
    gifts = [
        Donation.objects.create(
            project=project, amount=Money(25, "USD"), donor_name="B", donor_email=f"{i}@b.org"
        )
        for i in range(GIFTS)
    ]
    charges = [
        {
            "id": f"ch_{d.pk.hex}", "object": "charge", "amount": to_minor(d.amount),
            "amount_refunded": 0, "currency": "usd", "paid": True, "status": "succeeded",
            "payment_intent": f"pi_{d.pk.hex}", "balance_transaction": None,
            "metadata": {"donation_id": str(d.pk)},
        }
        for d in gifts
    ]
    gate = threading.Event()

    def complete(charge: dict[str, Any]) -> None:
        gate.wait()
        lifecycle.donation_charge_sync(
            donation_id=charge["metadata"]["donation_id"], charge=charge
        )

    closing = threading.Barrier(THREADS)

    def close_connection() -> None:
        closing.wait()  # one per thread: every worker thread closes its own connection
        connection.close()

    with ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="gift") as pool_exec:
        futures = [pool_exec.submit(complete, c) for c in charges]
        time.sleep(0.5)  # let every thread reach the gate
        started = time.perf_counter()
        gate.set()
        for f in futures:
            f.result()
        elapsed = time.perf_counter() - started
        for f in [pool_exec.submit(close_connection) for _ in range(THREADS)]:
            f.result()
    # Each worker thread had its own connection; close ours too before checking.
    connection.close()
    result: dict[str, Any] = {"completions_per_s": GIFTS / elapsed, "seconds": elapsed}
    if pool is not None:
        pool.refresh_from_db()
        ledger = sum((a.amount for a in MatchAllocation.objects.filter(pool=pool)), Decimal(0))
        matched = MatchAllocation.objects.filter(pool=pool, kind="allocate")
        result.update(
            allocations=matched.count(),
            over_allocated=pool.allocated > pool.cap.amount or ledger != pool.allocated,
            double_matched=matched.count() != matched.values("donation").distinct().count(),
            remaining=str(pool.remaining),
        )
    totals = FundingTotals.objects.get(project=project)
    result["totals_ok"] = totals.raised.amount == 25 * GIFTS and (
        pool is None or totals.matched.amount == pool.allocated
    )
    return result


def run() -> dict[str, Any]:
    _setup()
    rounds = []
    for _ in range(ROUNDS):
        rounds.append({"baseline": _round(with_pool=False), "matching": _round(with_pool=True)})
    best_base = max(r["baseline"]["completions_per_s"] for r in rounds)
    best_match = max(r["matching"]["completions_per_s"] for r in rounds)
    return {
        "gifts_per_round": GIFTS,
        "threads": THREADS,
        "rounds": rounds,
        "baseline_completions_per_s": round(best_base, 1),
        "matching_completions_per_s": round(best_match, 1),
        "ratio": round(best_match / best_base, 3),
        "any_over_allocation": any(r["matching"]["over_allocated"] for r in rounds),
        "any_double_match": any(r["matching"]["double_matched"] for r in rounds),
        "totals_ok": all(r["matching"]["totals_ok"] and r["baseline"]["totals_ok"] for r in rounds),
    }


if __name__ == "__main__":
    import json

    out = run()
    print(json.dumps({k: v for k, v in out.items() if k != "rounds"}, indent=2))
