"""The Celery beat schedule: every periodic job and how often it runs.

Settings read it (``CELERY_BEAT_SCHEDULE = beat_schedule(...)`` in campaign/settings.py); the
Celery app (campaign/celery.py) takes it from there with every other CELERY_* setting. The
jobs themselves are in donations/tasks.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery.schedules import crontab


def beat_schedule(
    *, test_provider: bool, test_provider_payout_minutes: int, outbox_relay_seconds: int = 10
) -> dict[str, Any]:
    """The periodic jobs; with the test payment provider, also its payouts and redelivery."""
    schedule: dict[str, Any] = {
        # Receipts and notices queued in a transaction whose publish failed (broker down):
        # sent within seconds of the broker's return. A tick not run by then is dropped.
        "relay-outbox": {
            "task": "donations.tasks.outbox_relay",
            "schedule": timedelta(seconds=outbox_relay_seconds),
            "options": {"expires": outbox_relay_seconds},
        },
        "prune-outbox": {
            "task": "donations.tasks.outbox_prune",
            "schedule": timedelta(hours=1),
        },
        "sweep-webhook-inbox": {
            "task": "donations.tasks.inbox_sweep",
            "schedule": timedelta(minutes=1),
        },
        "recheck-stale-pending-donations": {
            "task": "donations.tasks.pending_recheck",
            "schedule": timedelta(minutes=10),
        },
        "send-missed-receipts": {
            "task": "donations.tasks.receipts_catch_up",
            "schedule": timedelta(minutes=15),
        },
        "report-failed-events": {
            "task": "donations.tasks.failed_events_report",
            "schedule": timedelta(hours=1),
        },
        # Payouts whose events were missed (or whose listing task was lost), last days'.
        "repair-payouts": {
            "task": "donations.tasks.payouts_repair",
            "schedule": timedelta(hours=1),
        },
        # The check that proves the thermometer; mails ADMINS when anything disagrees.
        "reconcile-nightly": {
            "task": "donations.tasks.reconcile_nightly",
            "schedule": crontab(hour=3, minute=17),
        },
        # Project updates: scheduled ones published, donors-only ones public on their date.
        "project-updates-daily": {
            "task": "stewardship.tasks.updates_daily",
            "schedule": crontab(hour=6, minute=5),
        },
        # Update emails whose fan-out stopped (a killed worker) carry on.
        "resume-update-emails": {
            "task": "stewardship.tasks.updates_resume",
            "schedule": timedelta(minutes=5),
        },
        "expire-export-files": {
            "task": "finance.tasks.export_files_expire",
            "schedule": timedelta(hours=1),
        },
    }
    if test_provider:
        # The test provider emulates Stripe's automatic payouts on a schedule too (demo).
        schedule["test-provider-payout"] = {
            "task": "donations.tasks.test_provider_payout",
            "schedule": timedelta(minutes=test_provider_payout_minutes),
        }
        # ...and its webhook retries: events the endpoint refused are sent again.
        schedule["test-provider-redeliver"] = {
            "task": "donations.tasks.test_provider_redeliver",
            "schedule": timedelta(minutes=1),
        }
    return schedule
