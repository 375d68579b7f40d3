"""Every task of ours retries on an outage (database or broker) with a backoff, so no money
event, receipt or job is dropped by a blip; a task added later without it fails here."""

from __future__ import annotations

from campaign.celery import app
from donations.tasks import OUTAGE


def test_every_task_retries_on_outages_with_backoff() -> None:
    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert "donations.tasks.event_process" in ours and "donations.tasks.receipt_send" in ours
    missing = {
        name
        for name, task in ours.items()
        if not set(OUTAGE) <= set(getattr(task, "autoretry_for", ()) or ())
        or not getattr(task, "retry_backoff", False)
        or not getattr(task, "acks_late", False)
    }
    assert not missing, f"tasks without the outage retry policy: {sorted(missing)}"
