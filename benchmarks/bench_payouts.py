"""Payout reconciliation at scale: one payout of 10,000 balance transactions, listed from
the recorded-response server by the real stripe-python client (100 per page,
``expand[]=data.source``), each line stored, linked to its gift and ledger rows, the sum
checked: lines per second and peak Python memory, against listing the same lines without
storing them (the baseline, in the same run). Three rounds, alternating, each on a payout of
its own; medians reported.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
import uuid
from typing import Any

from benchmarks import common

LINES = 10_000
ROUNDS = 3


def _seed(fake: Any, project: Any, n: int) -> str:
    """n succeeded gifts with their ledger rows (bulk SQL: seconds, not events), their
    charges and balance transactions at the fake Stripe, and one payout of them all."""
    from django.utils import timezone
    from djmoney.money import Money

    from donations.models import Donation, LedgerEntry

    now = timezone.now()
    stamp = int(time.time())
    gifts, rows, bt_ids = [], [], []
    for i in range(n):
        pk = uuid.uuid4()
        ch, txn = f"ch_bench_{pk.hex[:20]}", f"txn_bench_{pk.hex[:20]}"
        gifts.append(
            Donation(
                id=pk,
                project=project,
                amount=Money(25, "USD"),
                charged=Money(25, "USD"),
                settled=Money(25, "USD"),
                status=Donation.Status.SUCCEEDED,
                donor_name="Bench",
                donor_email=f"bench{i}@example.org",
                charge_id=ch,
                balance_transaction_id=txn,
                counted=25,
                succeeded_at=now,
            )
        )
        rows += [
            LedgerEntry(
                kind="gift",
                reference=str(pk),
                project=project,
                donation_id=pk,
                amount=Money(25, "USD"),
                settled=Money(25, "USD"),
                project_amount=25,
                balance_transaction_id=txn,
                occurred_at=now,
            ),
            LedgerEntry(
                kind="fee",
                reference=str(pk),
                project=project,
                donation_id=pk,
                amount=Money("-1.03", "USD"),
                settled=Money("-1.03", "USD"),
                balance_transaction_id=txn,
                occurred_at=now,
            ),
        ]
        fake.objects[ch] = {
            "id": ch,
            "object": "charge",
            "amount": 2500,
            "currency": "usd",
            "metadata": {"donation_id": str(pk)},
            "_seq": i,
        }
        fake.objects[txn] = {
            "id": txn,
            "object": "balance_transaction",
            "amount": 2500,
            "currency": "usd",
            "fee": 103,
            "net": 2397,
            "exchange_rate": None,
            "source": ch,
            "type": "charge",
            "reporting_category": "charge",
            "created": stamp,
            "available_on": stamp,
            "description": "Donation",
            "_seq": i,
        }
        bt_ids.append(txn)
    Donation.objects.bulk_create(gifts, batch_size=2000)
    LedgerEntry.objects.bulk_create(rows, batch_size=4000)
    return str(fake.payout(bt_ids)["id"])


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _peak(fn: Any) -> int:
    """Peak Python memory of one run (tracemalloc slows Python down: never timed)."""
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def run() -> dict[str, Any]:
    common.django_setup(eager=True)
    from django.conf import settings

    from donations.models import Payout
    from donations.providers import provider
    from donations.services import payouts
    from tests.stripe_fake import FakeStripe

    fake = FakeStripe()
    settings.PAYMENT_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_benchmark"
    settings.STRIPE_API_BASE = fake.url
    project = common.bench_project()
    listed: list[float] = []
    stored: list[float] = []
    peaks: dict[str, int] = {}
    try:
        for round_no in range(ROUNDS + 1):  # the last round measures memory only
            payout_id = _seed(fake, project, LINES)

            def list_only(payout_id: str = payout_id) -> None:
                count = sum(1 for _ in provider().payout_lines(payout_id))
                assert count == LINES, count

            def reconcile(payout_id: str = payout_id) -> None:
                payout = payouts.payout_reconcile(payout_id=payout_id)
                assert payout.lines_status == Payout.Lines.RECONCILED, payout.lines_status
                assert payout.line_count == LINES and payout.unlinked_count == 0

            if round_no == ROUNDS:
                peaks = {"list": _peak(list_only), "reconcile": _peak(reconcile)}
                break
            order = [(listed, list_only), (stored, reconcile)]
            for bucket, fn in order if round_no % 2 == 0 else order[::-1]:
                bucket.append(_timed(fn))
            print(f"  round {round_no + 1}: list {listed[-1]:.2f} s, reconcile {stored[-1]:.2f} s")
    finally:
        fake.close()
    list_s = statistics.median(listed)
    store_s = statistics.median(stored)
    return {
        "lines": LINES,
        "rounds": ROUNDS,
        "list_only": {
            "lines_per_s": round(LINES / list_s),
            "peak_mib": round(peaks["list"] / 2**20, 1),
        },
        "reconcile": {
            "lines_per_s": round(LINES / store_s),
            "peak_mib": round(peaks["reconcile"] / 2**20, 1),
        },
        "reconcile_vs_list": round(list_s / store_s, 3),
    }
