"""Thin Celery tasks: ids in, one service call, retry policy here."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from donations.providers import ProviderError, is_test_provider, provider
from donations.services import (
    catchup,
    demo,
    events,
    outbox,
    payment_failed_email,
    payouts,
    receipts,
    reconcile,
    signin,
)
from donations.services.per_item_errors import item_isolated

logger = logging.getLogger(__name__)

# An outage is not the work's fault: a database that cannot be reached (or whose connection
# was cut: the worker reconnects before the next try, campaign/celery.py) or a lost broker
# connection. Every task retries on these with an exponential backoff (and jitter), so money
# events and receipts are not dropped by a blip; their beat jobs (sweep, catch-up) remain
# the net for an outage longer than the retries.
OUTAGE: tuple[type[Exception], ...] = (
    DatabaseOperationalError,
    DatabaseInterfaceError,
    BrokerOperationalError,
    RedisConnectionError,
    RedisTimeoutError,
)
# Email: the mail server (OSError covers SMTP errors and timeouts) or an outage.
EMAIL_RETRY: dict[str, Any] = {
    "acks_late": True,
    "autoretry_for": (OSError, *OUTAGE),
    "retry_backoff": 10,
    "retry_backoff_max": 600,
    "max_retries": 8,  # about an hour; then the receipts catch-up
}
# Long runs that skip what they already did (year statements and exports, finance/tasks.py),
# so a retry after an outage carries on.
LONG_RUN: dict[str, Any] = {
    "acks_late": True,
    "soft_time_limit": 3600,
    "time_limit": 3700,
    "autoretry_for": OUTAGE,
    "retry_backoff": 30,
    "retry_backoff_max": 300,
    "max_retries": 3,
}
PERIODIC: dict[str, Any] = {
    "acks_late": True,
    "autoretry_for": OUTAGE,
    "retry_backoff": 5,
    "retry_backoff_max": 60,
    "max_retries": 3,  # the job runs again at its next beat anyway
}


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(events.ProcessingDeferred, *OUTAGE),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=12,  # about 45 minutes; then the inbox sweep
)
def event_process(self, event_pk: int) -> str:  # type: ignore[no-untyped-def]
    return events.event_process(event_pk=event_pk)


@shared_task(**PERIODIC)
def inbox_sweep() -> int:
    pending = events.inbox_sweep()
    for pk in pending:
        try:
            events.event_process(event_pk=pk)
        except events.ProcessingDeferred:
            continue
        except SoftTimeLimitExceeded:
            raise  # out of time: stop cleanly; the next sweep carries on with the rest
        except (DatabaseOperationalError, DatabaseInterfaceError):
            raise  # the database, not the event: the task's retry policy handles it
        except Exception:  # one bad event must not stop the sweep; it is marked and logged
            logger.exception("Sweep could not process webhook event %s", pk)
    return len(pending)


@shared_task(**PERIODIC)
def pending_recheck() -> dict[str, int]:
    return catchup.pending_recheck()


@shared_task(**PERIODIC)
def failed_events_report() -> list[str]:
    return catchup.failed_events_report()


@shared_task(**EMAIL_RETRY)
def receipt_send(donation_id: str) -> bool:
    return receipts.receipt_send(donation_id=donation_id)


@shared_task(**PERIODIC)
def receipts_catch_up() -> int:
    sent = 0
    for send, unsent in (
        (receipts.receipt_send, receipts.receipts_unsent),
        (receipts.tribute_notice_send, receipts.tributes_unsent),
    ):
        for donation_id in unsent():
            try:
                with item_isolated("Catch-up email for", donation_id):
                    sent += send(donation_id=donation_id)
            except OSError:  # mail server down: the next run tries again
                logger.warning("Email for %s could not be sent; will retry", donation_id)
    return sent


@shared_task(**EMAIL_RETRY)
def tribute_notice_send(donation_id: str) -> bool:
    return receipts.tribute_notice_send(donation_id=donation_id)


@shared_task(
    acks_late=True,
    autoretry_for=(ProviderError, *OUTAGE),
    retry_backoff=10,
    retry_backoff_max=600,
    max_retries=8,
)
def payout_reconcile(payout_id: str) -> str:
    return str(payouts.payout_reconcile(payout_id=payout_id).lines_status)


@shared_task(**PERIODIC)
def payouts_repair() -> list[str]:
    return payouts.payouts_repair()


@shared_task(**PERIODIC)
def reconcile_nightly() -> int:
    """Beat's nightly reconcile_check; mails the site's ADMINS when anything disagrees."""
    return reconcile.reconcile_nightly()


@shared_task(**PERIODIC)
def test_provider_payout() -> str | None:
    return demo.demo_payout()


@shared_task(**PERIODIC)
def test_provider_redeliver() -> int:
    """The local test provider's webhook retries (a no-op with Stripe, which retries itself)."""
    if not is_test_provider():
        return 0
    redeliver = getattr(provider(), "events_redeliver", None)
    return int(redeliver()) if redeliver else 0


@shared_task(**EMAIL_RETRY)
def sign_in_link_send(email: str, language: str) -> bool:
    return signin.sign_in_link_send(email=email, language=language)


@shared_task(**EMAIL_RETRY)
def receipt_resend(donation_id: str) -> str:
    """The donor asked for it again from My gifts (the finance desk's re-send)."""
    return receipts.receipt_resend(donation_id=donation_id)


@shared_task(**EMAIL_RETRY)
def payment_failed_notice_send(notice_id: int) -> bool:
    return payment_failed_email.payment_failed_notice_send(notice_id=notice_id)


@shared_task(**PERIODIC)
def outbox_relay() -> int:
    """Work queued in a transaction whose after-commit publish failed (broker down)."""
    return outbox.outbox_relay()


@shared_task(**PERIODIC)
def outbox_prune() -> int:
    return outbox.outbox_prune(keep=outbox.KEEP_SENT)


@worker_ready.connect
def _outbox_relay_at_start(sender: Any = None, **kwargs: Any) -> None:
    """A worker that starts (after an outage, a deploy) relays the outbox at once rather
    than at beat's next tick."""
    try:
        outbox_relay.delay()
    except Exception:  # noqa: BLE001 - broker gone again: beat's next tick relays
        logger.warning("Could not queue the outbox relay at worker start")
