"""Donor emails: the receipt and the tribute notice, each sent once per succeeded gift."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from donations.locks import advisory_xact_lock
from donations.models import Donation
from donations.selectors import donation_matches
from donations.services.mail import email_send
from donations.services.receipt_numbers import receipt_number_issue, receipt_number_shown

logger = logging.getLogger(__name__)

RECEIPT_STATUSES = {
    Donation.Status.SUCCEEDED,
    Donation.Status.PARTIALLY_REFUNDED,
    Donation.Status.DISPUTED,
}


def tax_statement() -> str:
    """The organisation's statement for receipts (ORGANISATION_TAX_STATEMENT), or the demo's
    own sentence in the active language when none is configured."""
    return str(settings.ORGANISATION_TAX_STATEMENT) or gettext(
        "This is a demo organisation. No goods or services were provided in exchange for this gift."
    )


def receipt_send(*, donation_id: UUID | str) -> bool:
    """Send the receipt unless it was already sent. Returns True when this call sent it.

    An advisory lock per gift and email makes two concurrent runs (a redelivered task) send
    at most once, without holding the donation's row lock while the mail server answers (the
    gift's next Stripe event would wait). The mail goes out inside the transaction, so a
    crash after sending but before commit could send a second copy on retry: a duplicate
    receipt is the lesser harm than a missing one.

    The receipt number is issued first, in a short transaction of its own (not under the
    email's lock, nor in the gift's success): a retry finds it and sends the same number.
    """
    receipt_number_issue(donation_id=donation_id)
    with transaction.atomic():
        d = _claimed("receipt", donation_id)
        if d is None or d.receipt_sent_at is not None or d.status not in RECEIPT_STATUSES:
            return False
        _receipt_email(d)
        now = timezone.now()
        Donation.objects.filter(pk=d.pk, receipt_sent_at__isnull=True).update(
            receipt_sent_at=now, updated_at=now
        )
        logger.info("Receipt sent for donation %s", d.pk)
        return True


def receipt_resend(*, donation_id: UUID | str, to: str = "") -> str:
    """Send the receipt again (finance's explicit action), to the donor's email or a
    corrected one. After a refund it is a corrected receipt: it states what was charged net
    of refunds, and says so, under the first receipt's number with "-C<n>" (its n-th
    correction). Returns the address it went to."""
    receipt_number_issue(donation_id=donation_id)  # a gift whose receipt never went out
    with transaction.atomic():
        d = _claimed("receipt", donation_id)
        if d is None:
            raise ValueError("No such gift")
        if d.status not in RECEIPT_STATUSES | {Donation.Status.REFUNDED}:
            raise ValueError(f"A {d.get_status_display().lower()} gift has no receipt")
        address = to.strip() or d.donor_email
        corrected = d.refunded.amount > 0
        if corrected and d.receipt_number:
            # Under this gift's email lock (_claimed): two re-sends count two corrections.
            Donation.objects.filter(pk=d.pk).update(
                receipt_corrections=F("receipt_corrections") + 1
            )
            corrections = Donation.objects.filter(pk=d.pk).values_list("receipt_corrections")
            d.receipt_corrections = corrections.get()[0]
        # In the gift's language, like the first receipt.
        with translation.override(d.language):
            context = {**receipt_context(d), "corrected": corrected}
            if corrected:
                subject = gettext("Corrected receipt: your gift to %(project)s")
            else:
                subject = gettext("Your receipt: your gift to %(project)s")
            email_send(
                template="receipt",
                subject=subject % {"project": d.project.title},
                to=address,
                context=context,
            )
        now = timezone.now()
        Donation.objects.filter(pk=d.pk).update(
            receipt_sent_at=now if d.receipt_sent_at is None else d.receipt_sent_at,
            updated_at=now,
        )
        return address


def receipt_context(d: Donation) -> dict[str, Any]:
    """What a receipt shows, in the active language (the email and the My gifts page)."""
    context: dict[str, Any] = {
        "donation": d,
        "project": d.project,
        "organisation": settings.ORGANISATION_NAME,
        "tax_statement": tax_statement(),
        "site_url": settings.SITE_URL,
        "date": d.succeeded_at or timezone.now(),
        "receipt_number": receipt_number_shown(d),
        "matches": donation_matches(d),
        "manage_url": "",
    }
    if d.frequency == Donation.Frequency.MONTHLY:
        context["manage_url"] = my_gifts_url(d.donor_email)
    return context


def my_gifts_url(email: str) -> str:
    """My gifts, in the active language, with the address filled in to ask for a link."""
    return f"{settings.SITE_URL}{reverse('donations:my_gifts')}?{urlencode({'email': email})}"


def _receipt_email(d: Donation) -> None:
    with translation.override(d.language):
        subject = gettext("Thank you for your gift to %(project)s") % {"project": d.project.title}
        email_send(
            template="receipt", subject=subject, to=d.donor_email, context=receipt_context(d)
        )


def tribute_notice_send(*, donation_id: UUID | str) -> bool:
    """Tell the person the donor named ("let someone know") that a gift was dedicated to
    their honouree. Once per gift, never the amount. Returns True when this call sent it."""
    with transaction.atomic():
        d = _claimed("tribute", donation_id)
        if (
            d is None
            or not d.tribute_notify_email
            or not d.tribute_name
            or d.tribute_notified_at is not None
            or d.status not in RECEIPT_STATUSES
        ):
            return False
        with translation.override(d.language):
            context = {
                "donation": d,
                "project": d.project,
                "donor": gettext("Someone") if d.anonymous else d.donor_name,
                "organisation": settings.ORGANISATION_NAME,
                "site_url": settings.SITE_URL,
            }
            if d.tribute_type == Donation.Tribute.MEMORY:
                subject = gettext("A gift to protect %(project)s, in memory of %(name)s")
            else:
                subject = gettext("A gift to protect %(project)s, in honour of %(name)s")
            subject %= {"project": d.project.title, "name": d.tribute_name}
            email_send(
                template="tribute", subject=subject, to=d.tribute_notify_email, context=context
            )
        now = timezone.now()
        Donation.objects.filter(pk=d.pk, tribute_notified_at__isnull=True).update(
            tribute_notified_at=now, updated_at=now
        )
        return True


def tributes_unsent(
    *, older_than: timedelta = timedelta(minutes=10), limit: int = 200
) -> list[str]:
    cutoff = timezone.now() - older_than
    ids = (
        Donation.objects.filter(
            status__in=RECEIPT_STATUSES,
            tribute_notified_at__isnull=True,
            succeeded_at__lte=cutoff,
        )
        .exclude(tribute_notify_email="")
        .exclude(tribute_name="")
        .values_list("pk", flat=True)[:limit]
    )
    return [str(pk) for pk in ids]


def receipts_unsent(
    *, older_than: timedelta = timedelta(minutes=10), limit: int = 200
) -> list[str]:
    """Succeeded gifts whose receipt never went out (the task was lost with a broker outage
    or kept failing): their ids, for the catch-up job to send."""
    cutoff = timezone.now() - older_than
    ids = Donation.objects.filter(
        status__in=RECEIPT_STATUSES, receipt_sent_at__isnull=True, succeeded_at__lte=cutoff
    ).values_list("pk", flat=True)[:limit]
    return [str(pk) for pk in ids]


def _claimed(email: str, donation_id: UUID | str) -> Donation | None:
    """The donation, read after taking this gift's lock for this email (held to commit)."""
    try:
        pk = UUID(str(donation_id))  # one lock per gift, however the id was written
    except ValueError:
        return None
    advisory_xact_lock("email", email, pk)
    return Donation.objects.select_related("project").filter(pk=pk).first()
