"""Pages while gifts arrive (issue 19), part of the pages benchmark.

* Page under gifts: gunicorn as shipped; threads in this process confirm gifts at
  ``GIFT_RATE`` per second across ``PROJECTS`` projects through the lifecycle's success path
  (``donation_charge_sync``, what a processed ``charge.succeeded`` runs), while wrk loads
  one of those projects' pages (anonymous: from the page cache, which that project's own
  gifts empty now and then) and then ``/healthz`` under the same stream of gifts. Reports
  the page's requests per second against /healthz's.
* Confirmations: ``GIFTS`` pending gifts confirmed at once by forked workers (the matching
  benchmark's, each thread with its own connection), spread over ``PROJECTS`` projects
  against all to one project, per second. Gifts to one project queue on its totals row;
  gifts to different projects must not queue on anything (the page version, the receipt
  counter): the ratio says whether they do.
"""

from __future__ import annotations

import multiprocessing as mp
import statistics
import sys
import threading
import time
from decimal import Decimal
from typing import Any

from benchmarks import bench_matching, bench_pages, common

PROJECTS = 20
GIFT_RATE = 10.0  # confirmations per second during the page run
CONFIRMERS = 4  # threads sharing that rate, so a slow confirmation does not hold the stream
GIFTS = 200
PROCESSES = 4
ROUNDS = 3
GIFT = Decimal(25)


def _projects(n: int) -> list[Any]:
    return [common.bench_project() for _ in range(n)]


def _pending(projects: list[Any], count: int, tag: str) -> list[dict[str, Any]]:
    """``count`` pending gifts spread over ``projects``, as the charges that confirm them."""
    from djmoney.money import Money

    from donations.models import Donation
    from donations.money import to_minor

    gifts = Donation.objects.bulk_create(
        Donation(
            project=projects[i % len(projects)],
            amount=Money(GIFT, "USD"),
            donor_name="Bench",
            donor_email=f"{tag}-{i}@bench.example",
            status="pending",
        )
        for i in range(count)
    )
    return [
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


def _confirm_round(n_projects: int) -> float:
    """GIFTS confirmations at once across n_projects fresh projects: per second."""
    from django.db import connection

    from donations.models import Donation

    projects = _projects(n_projects)
    charges = _pending(projects, GIFTS, f"c{n_projects}-{time.time_ns()}")
    connection.close()
    ctx = mp.get_context("fork")
    start = ctx.Barrier(PROCESSES + 1)
    done = ctx.Queue()
    procs = [
        ctx.Process(
            target=bench_matching._worker, args=(charges[i::PROCESSES], "complete", start, done)
        )
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
    succeeded = Donation.objects.filter(project__in=projects, status="succeeded").count()
    if errors or succeeded != GIFTS:
        raise RuntimeError(f"{succeeded}/{GIFTS} confirmed; errors: {errors[:3]}")
    return GIFTS / elapsed


def confirmations() -> dict[str, Any]:
    one, many = [], []
    for _ in range(ROUNDS):  # interleaved, so drift on a shared machine hits both alike
        one.append(_confirm_round(1))
        many.append(_confirm_round(PROJECTS))
    one_s, many_s = statistics.median(one), statistics.median(many)
    return {
        "concurrency": f"{PROCESSES} processes x {bench_matching.THREADS} threads",
        "gifts_per_round": GIFTS,
        "one_project_per_s": round(one_s, 1),
        f"{PROJECTS}_projects_per_s": round(many_s, 1),
        "rounds_one": [round(x, 1) for x in one],
        f"rounds_{PROJECTS}": [round(x, 1) for x in many],
        "many_vs_one": round(many_s / one_s, 3),
    }


class _Confirmer(threading.Thread):
    """Confirms the given charges at ``rate`` per second until stopped or out of gifts."""

    def __init__(self, charges: list[dict[str, Any]], rate: float, delay: float = 0) -> None:
        super().__init__(daemon=True)
        self.charges, self.rate, self.delay = charges, rate, delay
        self.stop = threading.Event()
        self.done = 0
        self.errors: list[str] = []
        self.seconds = 0.0

    def run(self) -> None:
        from django.db import connection

        began = time.monotonic() + self.delay
        try:
            for i, charge in enumerate(self.charges):
                if self.stop.is_set():
                    break
                wait = began + i / self.rate - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                try:
                    bench_matching._complete(charge)
                    self.done += 1
                except Exception as exc:  # noqa: BLE001 - reported with the figures
                    self.errors.append(repr(exc))
        finally:
            self.seconds = time.monotonic() - began + self.delay
            connection.close()


def page_under_gifts() -> dict[str, Any]:
    """gunicorn as shipped; wrk on one project's page, then /healthz, while gifts confirm."""
    import os
    import subprocess

    projects = _projects(PROJECTS)
    page = projects[0]
    seconds = bench_pages.WRK_SECONDS
    # Enough gifts for both wrk runs and the warm-up, at GIFT_RATE.
    charges = _pending(projects, int(GIFT_RATE * (2 * seconds + 6)), f"p{time.time_ns()}")
    port = common.free_port()
    env = bench_pages._server_env()
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=common.ROOT,
        env={**os.environ, **env},
        check=True,
    )
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:campaign.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "--access-logfile",
        "/dev/null",
        "campaign.wsgi:application",
    ]
    base = f"http://127.0.0.1:{port}"
    url = base + page.get_absolute_url()
    with common.process(cmd, env, bench_pages.LOGS / "pages-gifts-gunicorn.log"):
        common.wait_http(f"{base}/healthz")
        common.wait_http(url)
        bench_pages._wrk(f"{base}/healthz", 2)  # warm-up
        quiet = bench_pages._wrk(url)  # no gifts: the page from the cache alone
        # Thread k confirms gifts k, k + CONFIRMERS, ...: together GIFT_RATE a second, in
        # order, so gift i (to project i % PROJECTS) is due at i / GIFT_RATE.
        confirmers = [
            _Confirmer(charges[k::CONFIRMERS], GIFT_RATE / CONFIRMERS, delay=k / GIFT_RATE)
            for k in range(CONFIRMERS)
        ]
        for c in confirmers:
            c.start()
        time.sleep(2)  # the stream is flowing
        loaded = bench_pages._wrk(url)
        healthz = bench_pages._wrk(f"{base}/healthz")
        for c in confirmers:
            c.stop.set()
        for c in confirmers:
            c.join(30)
    done = sum(c.done for c in confirmers)
    elapsed = max(c.seconds for c in confirmers)
    return {
        "projects": PROJECTS,
        "gifts_confirmed": done,
        "gifts_per_s": round(done / elapsed, 1) if elapsed else 0,
        # Gifts 0, 20, 40, ... (to projects[0], the page's) are thread 0's items 0, 5, 10, ...
        "gifts_to_the_page_project": len(range(0, confirmers[0].done, PROJECTS // CONFIRMERS)),
        "errors": [e for c in confirmers for e in c.errors][:3],
        "page_without_gifts": quiet,
        "page": loaded,
        "healthz": healthz,
        "page_vs_healthz": round(loaded["per_s"] / healthz["per_s"], 3),
        "page_vs_itself_without_gifts": round(loaded["per_s"] / quiet["per_s"], 3),
    }


def run_part() -> dict[str, Any]:
    """Both halves (Django set up by the caller, not eager: receipts are queued, then purged)."""
    from benchmarks.bench_webhooks import _purge_queue

    result: dict[str, Any] = {}
    for name, part in {"served": page_under_gifts, "confirmations": confirmations}.items():
        try:
            result[name] = part()
        except Exception as exc:  # noqa: BLE001 - one broken half must not lose the other
            import traceback

            traceback.print_exc()
            result[name] = {"error": f"{type(exc).__name__}: {exc}"}
    _purge_queue()  # the queued receipts: no worker runs in this benchmark
    return result


if __name__ == "__main__":
    import json

    common.django_setup(eager=False)
    print(json.dumps(run_part(), indent=2))
