"""Queueing background work by task name, so services never import the task module (tasks
import services; the reverse would be a cycle). Celery's registry resolves the name; the
tasks module is registered when the app is ready (DonationsConfig.ready)."""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

EVENT_PROCESS = "donations.tasks.event_process"
RECEIPT_SEND = "donations.tasks.receipt_send"
TRIBUTE_NOTICE_SEND = "donations.tasks.tribute_notice_send"
SIGN_IN_LINK_SEND = "donations.tasks.sign_in_link_send"
RECEIPT_RESEND = "donations.tasks.receipt_resend"
PAYMENT_FAILED_NOTICE_SEND = "donations.tasks.payment_failed_notice_send"
PAYOUT_RECONCILE = "donations.tasks.payout_reconcile"


def enqueue(task_name: str, *args: object) -> None:
    """Queue a task now. A broker outage is logged, not raised: every caller has a beat job
    that finds the work again (the inbox sweep, the payout repair). Work a gift's success
    must cause (receipts, notices) goes through the outbox instead (services/outbox.py)."""
    try:
        current_app.tasks[task_name].delay(*args)
    except Exception as exc:  # noqa: BLE001 - broker down: the caller's beat job catches up
        logger.warning("Could not queue %s%s (%s); its catch-up job will", task_name, args, exc)


def enqueue_on_commit(task_name: str, *args: object) -> None:
    """Queue a task once the current transaction commits (never for a rolled-back change)."""
    transaction.on_commit(lambda: enqueue(task_name, *args))
