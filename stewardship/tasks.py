"""Thin Celery tasks for project updates: ids in, one service call, retry policy here."""

from __future__ import annotations

from celery import shared_task

from donations.tasks import EMAIL_RETRY, PERIODIC
from stewardship.services import fanout, publishing


def fan_out_start(update_id: int) -> None:
    """Queue the first chunk of an update's fan-out (called after commit)."""
    update_send_chunk.delay(update_id)


@shared_task(**EMAIL_RETRY)
def update_send_chunk(update_id: int) -> int:
    """One chunk of the fan-out, then the next one, queued so as to keep the sending rate."""
    chunk = fanout.deliveries_send_chunk(update_id=update_id)
    if chunk.more:
        update_send_chunk.apply_async((update_id,), countdown=fanout.next_chunk_delay(chunk))
    return chunk.handled


@shared_task(**PERIODIC)
def updates_resume() -> list[int]:
    """Fan-outs that stopped (a killed worker, a lost message) carry on from their queue."""
    stalled = fanout.fanouts_stalled()
    for update_id in stalled:
        update_send_chunk.delay(update_id)
    return stalled


@shared_task(**PERIODIC)
def updates_daily() -> dict[str, int]:
    return publishing.updates_daily(fan_out=fan_out_start)
