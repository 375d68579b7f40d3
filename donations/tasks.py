"""Thin Celery tasks: ids in, one service call, retry policy here."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError

from donations.providers import ProviderError, is_test_provider, provider
from donations.services import catchup, demo, events, payouts, receipts, reconcile
from donations.services.isolation import item_isolated

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(events.ProcessingDeferred,),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=8,
)
def event_process(self, event_pk: int) -> str:  # type: ignore[no-untyped-def]
    return events.event_process(event_pk=event_pk)


@shared_task(acks_late=True)
def inbox_sweep() -> int:
    pending = events.inbox_sweep()
    for pk in pending:
        try:
            events.event_process(event_pk=pk)
        except events.ProcessingDeferred:
            continue
        except SoftTimeLimitExceeded:
            raise  # out of time: stop cleanly; the next sweep carries on with the rest
        except (OperationalError, InterfaceError):
            raise  # the database, not the event: the task's retry policy handles it
        except Exception:  # one bad event must not stop the sweep; it is marked and logged
            logger.exception("Sweep could not process webhook event %s", pk)
    return len(pending)


@shared_task(acks_late=True)
def pending_recheck() -> dict[str, int]:
    return catchup.pending_recheck()


@shared_task(acks_late=True)
def failed_events_report() -> list[str]:
    return catchup.failed_events_report()


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=10, max_retries=5)
def receipt_send(donation_id: str) -> bool:
    return receipts.receipt_send(donation_id=donation_id)


@shared_task(acks_late=True)
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


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=10, max_retries=5)
def tribute_notice_send(donation_id: str) -> bool:
    return receipts.tribute_notice_send(donation_id=donation_id)


@shared_task(
    acks_late=True,
    autoretry_for=(ProviderError,),
    retry_backoff=10,
    retry_backoff_max=600,
    max_retries=8,
)
def payout_reconcile(payout_id: str) -> str:
    return str(payouts.payout_reconcile(payout_id=payout_id).lines_status)


@shared_task(acks_late=True)
def payouts_repair() -> list[str]:
    return payouts.payouts_repair()


@shared_task(acks_late=True)
def reconcile_nightly() -> int:
    """Beat's nightly reconcile_check; mails the site's ADMINS when anything disagrees."""
    return reconcile.reconcile_nightly()


@shared_task(acks_late=True)
def test_provider_payout() -> str | None:
    return demo.demo_payout()


# --- the finance desk ----------------------------------------------------------------------


@shared_task(acks_late=True, soft_time_limit=3600, time_limit=3700)
def statement_run(run_id: int) -> None:
    from donations.services.statements import statement_run_execute

    statement_run_execute(run_id=run_id)


@shared_task(acks_late=True, soft_time_limit=3600, time_limit=3700)
def export_run(job_id: int) -> None:
    from donations.services.export_jobs import export_job_run

    export_job_run(job_id=job_id)


@shared_task(acks_late=True)
def export_files_expire() -> int:
    from donations.services.export_jobs import export_files_expire as expire

    return expire()


@shared_task(acks_late=True)
def test_provider_redeliver() -> int:
    """The local test provider's webhook retries (a no-op with Stripe, which retries itself)."""
    if not is_test_provider():
        return 0
    redeliver = getattr(provider(), "events_redeliver", None)
    return int(redeliver()) if redeliver else 0
