"""Tasks only the benchmark's worker loads (``celery worker --include benchmarks.tasks``)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.core.cache import cache


@shared_task(name="benchmarks.noop")
def noop(key: str) -> None:
    """The processing benchmark's baseline: a task that only records that it ran (one Redis
    INCR), through the same worker, queue and acknowledgement as an event."""
    cache.incr(key)


@shared_task(name="benchmarks.event_apply_floor")
def event_apply_floor(event_pk: int, session: dict[str, Any]) -> str:
    """The processing benchmark's fair floor: donations.services.events.event_process with
    the provider's answer handed in (the Checkout Session as Stripe returns it, expanded)
    instead of asked for. The same event row read and counted, the same transaction (the
    gift's transition, ledger rows and totals, the event marked processed), the same worker."""
    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from donations.models import WebhookEvent
    from donations.providers import stripe_payloads
    from donations.services import events

    event = WebhookEvent.objects.filter(pk=event_pk).first()
    if event is None or event.status == WebhookEvent.Status.PROCESSED:
        return "skipped"
    WebhookEvent.objects.filter(pk=event_pk).update(attempts=F("attempts") + 1)
    fact = stripe_payloads.session_fact(session)
    with transaction.atomic():
        events.fact_apply(fact, event_id=event.stripe_id)
        WebhookEvent.objects.filter(pk=event_pk).update(
            status=WebhookEvent.Status.PROCESSED, processed_at=timezone.now(), last_error=""
        )
    return "processed"
