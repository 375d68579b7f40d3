"""Webhook ingestion, event processing and freshness, on real processes.

* Ingestion: signed events per second that ``/stripe/webhook/`` accepts under gunicorn
  (2 sync workers per core, real PostgreSQL, real Redis broker), with p50/p99 latency, against
  a trivial view on the same server in the same run (same middleware, no work).
* Processing: ``checkout.session.completed`` events per second through one Celery worker with
  2 processes; each event re-fetches the session from the recorded-response Stripe server over
  HTTP and applies the transition, totals and ledger in one transaction.
* Processing floor: the same events applied by a task that is handed the session instead of
  asking the provider for it (benchmarks/tasks.py): the same transaction and rows.
* Freshness (bench_freshness.py): with the server and worker running, events posted at
  steady paces (at rest, 15/s and 30/s); per event, received (inbox row written) to
  processed (totals committed before the event is marked).
"""

from __future__ import annotations

import contextlib
import http.client
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import common

CLIENTS = 4
DURATION = 4.0
INGESTION_ROUNDS = 3
PROCESS_EVENTS = 500
LOGS = common.ROOT / "artifacts" / "bench"
QUEUES = ("celery", "email")  # every queue the worker is started on (-Q celery,email)


def _client(
    port: int, path: str, bodies: list[tuple[bytes, str]], seconds: float, out: Any
) -> None:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body, signature = bodies[i % len(bodies)] if bodies else (b"", "")
        i += 1
        headers = {"Content-Type": "application/json"}
        if signature:
            headers["Stripe-Signature"] = signature
        began = time.perf_counter()
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except OSError:
            ok = False
        latencies.append(time.perf_counter() - began)
        errors += not ok
        conn.close()
    out.put((latencies, errors))


def _load(port: int, path: str, bodies: list[list[tuple[bytes, str]]]) -> dict[str, Any]:
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_client, args=(port, path, bodies[i] if bodies else [], DURATION, out))
        for i in range(CLIENTS)
    ]
    began = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    elapsed = time.perf_counter() - began
    for p in procs:
        p.join()
    latencies = [x for lat, _ in results for x in lat]
    return {
        "requests": len(latencies),
        "errors": sum(e for _, e in results),
        "per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(common.percentile(latencies, 50) * 1000, 1),
        "p99_ms": round(common.percentile(latencies, 99) * 1000, 1),
    }


def _gunicorn(port: int, env: dict[str, str], name: str) -> Any:
    workers = 2 * (os.cpu_count() or 1)
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "campaign.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
    ]
    # Access log off for the measurement: it is I/O the trivial view would also pay.
    cmd = cmd[:-2]
    return common.process(cmd, env, LOGS / f"{name}.log")


def _worker(env: dict[str, str], name: str, queues: str = "celery,email") -> Any:
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "campaign",
        "worker",
        "-Q",
        queues,
        "--concurrency=2",
        "--pool=prefork",
        "--loglevel=WARNING",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "--include=benchmarks.tasks",
    ]
    return common.process(cmd, env, LOGS / f"{name}.log")


def _signed_bodies(n: int, sessions: list[dict[str, Any]] | None = None) -> list[tuple[bytes, str]]:
    from tests.stripe_fake import signed_event

    out = []
    for i in range(n):
        obj = sessions[i] if sessions else {"id": f"cs_bench_{i}", "object": "checkout.session"}
        body, header = signed_event("checkout.session.completed", obj, secret=common.WEBHOOK_SECRET)
        out.append((body.encode(), header))
    return out


def _purge_queue() -> None:
    """Empty every queue a worker consumes. ``app.control.purge()`` empties only the queues
    the app declares, which left the email queue growing run after run."""
    from campaign.celery import app

    with app.connection_for_write() as conn:
        channel = conn.default_channel
        for queue in QUEUES:
            # A queue never declared has nothing in it: whatever purging it raises, go on.
            with contextlib.suppress(Exception):
                channel.queue_purge(queue)  # type: ignore[attr-defined]


def _ms_each(work: Any, items: list[Any]) -> float:
    began = time.perf_counter()
    for item in items:
        work(item)
    return round((time.perf_counter() - began) * 1000 / len(items), 3)


def profile(n: int = 300) -> dict[str, float]:
    """Where a webhook's time goes, in this process, per event (ms): the signature check, the
    inbox insert with its commit, the broker publish that follows the commit (and the same
    publish by Celery's Task.delay), the whole view through the test client, and the trivial
    view through the same client."""
    from django.db import transaction
    from django.test import Client
    from django.utils import timezone

    from campaign.celery import app
    from donations.providers import provider
    from donations.services import enqueue, events, publish

    app.conf.task_always_eager = False  # published to the broker, as under gunicorn
    bodies = _signed_bodies(n)
    verified = [provider().webhook_verify(body, header) for body, header in bodies]
    pks: list[int] = []

    def insert(event: Any) -> None:
        with transaction.atomic():
            pk = events._inbox_insert(event, timezone.now())
        if pk is not None:
            pks.append(pk)

    client = Client()
    fresh = _signed_bodies(n)
    out = {
        "signature_check_ms": _ms_each(lambda b: provider().webhook_verify(*b), bodies),
        "insert_and_commit_ms": _ms_each(insert, verified),
        # What the view does after the commit (donations/services/publish.py) ...
        "broker_publish_ms": _ms_each(
            lambda pk: publish.task_publish(enqueue.EVENT_PROCESS, pk), pks
        ),
        # ... and Celery's Task.delay, which it replaced, for the same events.
        "broker_publish_by_delay_ms": _ms_each(
            lambda pk: enqueue.enqueue(enqueue.EVENT_PROCESS, pk), pks
        ),
        "whole_view_ms": _ms_each(
            lambda b: client.post(
                "/stripe/webhook/",
                data=b[0],
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=b[1],
            ),
            fresh,
        ),
        "trivial_view_ms": _ms_each(lambda _: client.post("/bench/trivial/"), fresh),
    }
    _purge_queue()
    return out


def ingestion() -> dict[str, Any]:
    """Alternating rounds (trivial, webhook) on one server; the ratio per round, median."""
    from donations.models import WebhookEvent

    port = common.free_port()
    env = common.server_env()
    rounds = []
    before = WebhookEvent.objects.count()
    with _gunicorn(port, env, "ingestion-gunicorn"):
        common.wait_http(f"http://127.0.0.1:{port}/healthz")
        _load(port, "/bench/trivial/", [])  # warm-up: imports, connections
        for _ in range(INGESTION_ROUNDS):
            trivial = _load(port, "/bench/trivial/", [])
            webhook = _load(
                port, "/stripe/webhook/", [_signed_bodies(2500) for _ in range(CLIENTS)]
            )
            rounds.append(
                {
                    "trivial_view": trivial,
                    "webhook": webhook,
                    "ratio": round(webhook["per_s"] / trivial["per_s"], 3),
                }
            )
        stored = WebhookEvent.objects.count() - before
    _purge_queue()  # no worker ran: drop the queued processing tasks
    WebhookEvent.objects.filter(stripe_id__startswith="evt_test_").delete()
    median = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
    profiled = profile()
    WebhookEvent.objects.filter(stripe_id__startswith="evt_test_").delete()
    return {
        "profile": profiled,
        "webhook_vs_trivial": median["ratio"],
        "trivial_per_s": median["trivial_view"]["per_s"],
        "webhook_per_s": median["webhook"]["per_s"],
        "webhook_p50_ms": median["webhook"]["p50_ms"],
        "webhook_p99_ms": median["webhook"]["p99_ms"],
        "trivial_p99_ms": median["trivial_view"]["p99_ms"],
        "events_sent": sum(r["webhook"]["requests"] for r in rounds),
        "events_stored": stored,
        "errors": sum(r["webhook"]["errors"] + r["trivial_view"]["errors"] for r in rounds),
        "rounds": rounds,
    }


def _paid_gifts(fake: Any, n: int) -> list[dict[str, Any]]:
    """n pending gifts with paid Checkout Sessions in the recorded-response server."""
    from djmoney.money import Money

    from donations.models import Donation

    project = common.bench_project()
    gifts = Donation.objects.bulk_create(
        Donation(
            project=project,
            amount=Money(25, "USD"),
            donor_name="Bench",
            donor_email=f"{i}@bench.example",
        )
        for i in range(n)
    )
    sessions = []
    for d in gifts:
        session = fake._session_create(
            {
                "mode": "payment",
                "line_items": [{"price_data": {"unit_amount": "2500", "currency": "usd"}}],
                "metadata": {"donation_id": str(d.pk)},
                "client_reference_id": str(d.pk),
                "success_url": "http://x/",
                "cancel_url": "http://x/",
            },
            None,
        )
        sessions.append(fake.pay(session["id"]))
        Donation.objects.filter(pk=d.pk).update(checkout_session_id=session["id"])
    return sessions


def _process_once(fake: Any, queues: str) -> dict[str, Any]:
    import json

    from donations.models import WebhookEvent
    from donations.tasks import event_process

    sessions = _paid_gifts(fake, PROCESS_EVENTS)
    events = WebhookEvent.objects.bulk_create(
        WebhookEvent(
            stripe_id=f"evt_bench_{time.time_ns()}_{i}",
            type="checkout.session.completed",
            payload=json.loads(body),
        )
        for i, (body, _) in enumerate(_signed_bodies(PROCESS_EVENTS, sessions))
    )
    ids = [e.pk for e in events]
    env = common.server_env(stripe_api_base=fake.url)
    with _worker(env, f"processing-worker-{queues.replace(',', '-')}", queues):
        time.sleep(4)  # worker boot
        began = time.perf_counter()
        for pk in ids:
            event_process.delay(pk)
        deadline = time.monotonic() + 600
        while True:
            done = WebhookEvent.objects.filter(pk__in=ids, status="processed").count()
            if done == len(ids) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - began
    _purge_queue()
    return {
        "queues": queues,
        "events": len(ids),
        "processed": done,
        "seconds": round(elapsed, 2),
        "per_s": round(done / elapsed, 1),
    }


def _noop_once() -> dict[str, Any]:
    """The same worker, queue and acks, tasks that do nothing but count themselves."""
    from django.core.cache import cache

    from benchmarks.tasks import noop

    key = f"bench:noop:{time.time_ns()}"
    cache.set(key, 0, 3600)
    env = common.server_env()
    with _worker(env, "processing-worker-noop", "celery"):
        time.sleep(4)  # worker boot
        began = time.perf_counter()
        for _ in range(PROCESS_EVENTS):
            noop.delay(key)
        deadline = time.monotonic() + 300
        done = 0
        while time.monotonic() < deadline:
            done = int(cache.get(key) or 0)
            if done >= PROCESS_EVENTS:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - began
    _purge_queue()
    return {
        "tasks": PROCESS_EVENTS,
        "done": done,
        "seconds": round(elapsed, 2),
        "per_s": round(done / elapsed, 1),
    }


def _floor_once(fake: Any) -> dict[str, Any]:
    """The fair floor: the same events through the same worker, each applied by
    benchmarks.tasks.event_apply_floor with the session Stripe would return handed in (no
    request to the provider): the same event row, the same transaction, the same writes."""
    import json

    from benchmarks.tasks import event_apply_floor
    from donations.models import WebhookEvent
    from donations.providers.stripe import SESSION_EXPAND

    sessions = _paid_gifts(fake, PROCESS_EVENTS)
    events = WebhookEvent.objects.bulk_create(
        WebhookEvent(
            stripe_id=f"evt_floor_{time.time_ns()}_{i}",
            type="checkout.session.completed",
            payload=json.loads(body),
        )
        for i, (body, _) in enumerate(_signed_bodies(PROCESS_EVENTS, sessions))
    )
    expanded = [fake._expanded(fake.get(s["id"]), SESSION_EXPAND) for s in sessions]
    ids = [e.pk for e in events]
    env = common.server_env(stripe_api_base=fake.url)
    with _worker(env, "processing-worker-floor", "celery"):
        time.sleep(4)  # worker boot
        began = time.perf_counter()
        for pk, session in zip(ids, expanded, strict=True):
            event_apply_floor.delay(pk, session)
        deadline = time.monotonic() + 600
        while True:
            done = WebhookEvent.objects.filter(pk__in=ids, status="processed").count()
            if done == len(ids) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - began
    _purge_queue()
    return {
        "floor": "same transaction and rows, no provider request",
        "events": len(ids),
        "processed": done,
        "seconds": round(elapsed, 2),
        "per_s": round(done / elapsed, 1),
    }


def processing(fake: Any) -> dict[str, Any]:
    """A no-op task through the same worker (the baseline), money events alone (receipts
    wait on the email queue, as with a separate email worker), then the same with the two
    processes also sending every receipt, then the fair floor (_floor_once). Every queue is
    emptied before each run, so no run also sends an earlier run's receipts."""
    _purge_queue()
    baseline = _noop_once()
    events_only = _process_once(fake, "celery")
    _purge_queue()
    with_email = _process_once(fake, "celery,email")
    _purge_queue()
    floor = _floor_once(fake)
    return {
        "per_s": events_only["per_s"],
        "noop_per_s": baseline["per_s"],
        "vs_noop": round(events_only["per_s"] / baseline["per_s"], 3),
        "floor_per_s": floor["per_s"],
        "vs_floor": round(events_only["per_s"] / floor["per_s"], 3),
        "per_s_with_receipts_on_same_processes": with_email["per_s"],
        "runs": [baseline, events_only, with_email, floor],
    }


def run(freshness: Any = None) -> dict[str, Any]:
    """Ingestion, processing and, given bench_freshness.freshness (as benchmarks/run.py
    passes it), freshness, on one recorded-response Stripe server."""
    common.django_setup(eager=False)
    from tests.stripe_fake import FakeStripe

    result: dict[str, Any] = {"ingestion": ingestion()}
    fake = FakeStripe()
    try:
        result["processing"] = processing(fake)
        if freshness is not None:
            result["freshness"] = freshness(fake)
    finally:
        fake.close()
    return result


if __name__ == "__main__":
    import json

    Path(LOGS).mkdir(parents=True, exist_ok=True)
    print(json.dumps(run(), indent=2))
