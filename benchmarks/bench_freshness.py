"""Freshness, part of the webhooks benchmark (bench_webhooks.run): with the server and worker
running, webhooks posted at steady paces; per event, received (inbox row written) to
processed (the gift's transition and totals committed with the event's mark)."""

from __future__ import annotations

import http.client
import time
from typing import Any

from benchmarks import common
from benchmarks.bench_webhooks import _gunicorn, _paid_gifts, _signed_bodies, _worker

FRESH_EVENTS = 150
FRESH_RATE = 15.0  # events per second, a busy campaign evening
FRESH_REST_EVENTS = 20


def _fresh_phase(fake: Any, port: int, events: int, rate: float) -> dict[str, Any]:
    """events webhooks posted at a steady rate; per event, received (inbox row written) to
    processed (the gift's transition and totals committed with the event's mark)."""
    from donations.models import WebhookEvent

    sessions = _paid_gifts(fake, events)
    bodies = _signed_bodies(events, sessions)
    started = time.time()
    gap = 1.0 / rate
    for i, (body, header) in enumerate(bodies):
        wait = started + i * gap - time.time()
        if wait > 0:
            time.sleep(wait)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(
            "POST",
            "/stripe/webhook/",
            body=body,
            headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        )
        conn.getresponse().read()
        conn.close()
    posted = time.time() - started
    ids = [s["id"] for s in sessions]
    deadline = time.monotonic() + 120
    rows: list[Any] = []
    while time.monotonic() < deadline:
        rows = list(
            WebhookEvent.objects.filter(
                payload__data__object__id__in=ids, status="processed"
            ).values_list("received_at", "processed_at")
        )
        if len(rows) == len(ids):
            break
        time.sleep(0.2)
    delays = [(p - r).total_seconds() for r, p in rows]
    return {
        "events": len(ids),
        "processed": len(rows),
        "rate_per_s": rate,
        "posted_per_s": round(len(ids) / posted, 1) if posted else None,
        "p50_ms": round(common.percentile(delays, 50) * 1000, 1),
        "p95_ms": round(common.percentile(delays, 95) * 1000, 1),
        "max_ms": round(max(delays) * 1000, 1) if delays else None,
    }


FRESH_PHASES = {
    "at_rest": (FRESH_REST_EVENTS, 2.0),  # a gift now and then: nothing queued before it
    "busy": (FRESH_EVENTS, FRESH_RATE),
    "at_30_per_s": (FRESH_EVENTS, 30.0),  # a giving day's peak
}


def freshness(fake: Any) -> dict[str, Any]:
    """One server and worker, three paces in turn (FRESH_PHASES); the busy evening's figures
    at the top level, as before, and each pace under its own name."""
    env = common.server_env(stripe_api_base=fake.url)
    port = common.free_port()
    phases: dict[str, Any] = {}
    with _gunicorn(port, env, "freshness-gunicorn"), _worker(env, "freshness-worker"):
        common.wait_http(f"http://127.0.0.1:{port}/healthz")
        time.sleep(4)
        for name, (events, rate) in FRESH_PHASES.items():
            phases[name] = _fresh_phase(fake, port, events, rate)
            time.sleep(2)  # the worker idle again before the next pace
    return {**phases["busy"], "at_rest": phases["at_rest"], "at_30_per_s": phases["at_30_per_s"]}
