"""Shared set-up for the benchmarks: a dedicated PostgreSQL database, Django configured for
it, free ports and subprocesses (gunicorn, Celery workers) that are always cleaned up."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# A database of its own (created and migrated here): benchmarks truncate what they seed.
# BENCH_DB (or BENCH_DATABASE) names another, e.g. one per checkout.
BENCH_DB = os.environ.get("BENCH_DB") or os.environ.get("BENCH_DATABASE", "campaign_bench")
WEBHOOK_SECRET = "whsec_benchmark_secret"


def database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/campaign")
    return urlunsplit(urlsplit(base)._replace(path=f"/{BENCH_DB}"))


def redis_url() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


def django_setup(*, eager: bool = True) -> None:
    """Create (once) and migrate the benchmark database, then configure Django for it."""
    import psycopg2

    url = database_url()
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{BENCH_DB}"')
    conn.close()
    os.environ.update(server_env(eager=eager))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaign.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def server_env(*, eager: bool = False, stripe_api_base: str = "") -> dict[str, str]:
    """Environment for the benchmark's processes (server, workers and this one)."""
    env = {
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url(),
        "CELERY_TASK_ALWAYS_EAGER": "true" if eager else "false",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "DJANGO_SETTINGS_MODULE": "benchmarks.bench_settings",
        "PYTHONPATH": str(ROOT),
    }
    if stripe_api_base:
        env.update(
            STRIPE_SECRET_KEY="sk_test_benchmark",
            STRIPE_API_BASE=stripe_api_base,
            PAYMENT_PROVIDER="stripe",
        )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up within {timeout:.0f} s")
        time.sleep(0.2)


@contextmanager
def process(cmd: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A subprocess in its own process group, killed with its children on exit."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def bench_project() -> Any:
    """A fresh published USD project with an empty totals row (Django must be set up)."""
    from decimal import Decimal

    from djmoney.money import Money

    from projects.models import FundingTotals, Project

    stamp = time.time_ns()
    project = Project.objects.create(
        title=f"Bench {stamp}",
        slug=f"bench-{stamp}",
        status="published",
        summary="-",
        place="-",
        country="-",
        cost=Money(10**7, "USD"),
        acres=Decimal(1000),
    )
    FundingTotals.objects.create(project=project, raised=Money(0, "USD"), matched=Money(0, "USD"))
    return project
