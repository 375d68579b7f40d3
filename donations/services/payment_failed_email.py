"""A monthly gift's payment failed (``invoice.payment_failed``): email the donor a link to
update their card, once per failed attempt, in the language the gift was made in."""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from donations.models import Donation, PaymentFailureNotice
from donations.providers.facts import InvoiceFact
from donations.services import enqueue, outbox
from donations.services.mail import email_send
from donations.services.signin import sign_in_link_create

logger = logging.getLogger(__name__)


def payment_failure_record(*, plan_id: UUID | str, invoice: InvoiceFact) -> bool:
    """Note the failed attempt (in the event's transaction) and queue its email in the
    same transaction (the outbox). A second delivery of the same attempt finds the row and queues nothing."""
    notice, created = PaymentFailureNotice.objects.get_or_create(
        invoice_id=invoice.id,
        attempt=max(invoice.attempt_count, 1),
        defaults={"plan_id": plan_id},
    )
    if created:
        outbox.outbox_write(enqueue.PAYMENT_FAILED_NOTICE_SEND, notice.pk)
    return created


def payment_failed_notice_send(*, notice_id: int) -> bool:
    """Send the notice unless it went already (row lock: two runs send once)."""
    with transaction.atomic():
        notice = (
            PaymentFailureNotice.objects.select_for_update()
            .select_related("plan__project")
            .filter(pk=notice_id)
            .first()
        )
        if notice is None or notice.sent_at is not None:
            return False
        plan: Donation = notice.plan
        if plan.subscription_status == "canceled":
            return False  # stopped meanwhile: nothing to update
        hours = settings.DONOR_PAYMENT_FAILED_LINK_AGE // 3600
        with translation.override(plan.language):
            url = sign_in_link_create(
                email=plan.donor_email,
                language=plan.language,
                lifetime=timedelta(seconds=settings.DONOR_PAYMENT_FAILED_LINK_AGE),
            )
            email_send(
                template="payment_failed",
                subject=gettext("Your monthly gift to %(project)s: please update your card")
                % {"project": plan.project.title},
                to=plan.donor_email,
                context={
                    "plan": plan,
                    "amount": plan.total_charge,
                    "url": url,
                    "hours": hours,
                    "organisation": settings.ORGANISATION_NAME,
                },
            )
        PaymentFailureNotice.objects.filter(pk=notice.pk).update(sent_at=timezone.now())
        logger.info(
            "Payment-failure notice sent for plan %s invoice %s", plan.pk, notice.invoice_id
        )
        return True
