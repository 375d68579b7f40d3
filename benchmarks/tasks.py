"""Tasks only the benchmark's worker loads (``celery worker --include benchmarks.tasks``)."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache


@shared_task(name="benchmarks.noop")
def noop(key: str) -> None:
    """The processing benchmark's baseline: a task that only records that it ran (one Redis
    INCR), through the same worker, queue and acknowledgement as an event."""
    cache.incr(key)
