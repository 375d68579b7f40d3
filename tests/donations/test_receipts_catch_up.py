"""A receipt whose task was lost (mail server down past its retries, or a broker outage at
commit) is sent by the catch-up beat job, once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.utils import timezone
from djmoney.money import Money

from donations import tasks
from donations.models import Donation
from tests.donations.event_helpers import gift_start, post_event
from tests.factories import DonationFactory


class MailServerDown(BaseEmailBackend):
    """Stands in for an SMTP server that refuses connections."""

    def send_messages(self, email_messages: Any) -> int:
        raise ConnectionRefusedError("mail server down")


def test_receipt_lost_to_a_mail_outage_is_sent_by_the_catch_up_job_once(
    client: Client,
    project: Any,
    fake_stripe: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.EMAIL_BACKEND = f"{__name__}.MailServerDown"
    donation = gift_start(project, "40", email="late@example.org")
    session = fake_stripe.pay(donation.checkout_session_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, "checkout.session.completed", session).status_code == 200
    donation.refresh_from_db()
    assert donation.status == Donation.Status.SUCCEEDED  # the outage never undoes the gift
    assert donation.receipt_sent_at is None

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert tasks.receipts_catch_up() == 0  # too recent: its own task may still be retrying
    Donation.objects.filter(pk=donation.pk).update(
        succeeded_at=timezone.now() - timedelta(minutes=11)
    )
    assert tasks.receipts_catch_up() == 1
    assert tasks.receipts_catch_up() == 0
    assert [m.to for m in mail.outbox] == [["late@example.org"]]
    assert project.title in mail.outbox[0].subject
    donation.refresh_from_db()
    assert donation.receipt_sent_at is not None


def test_catch_up_skips_gifts_that_did_not_succeed(project: Any, fake_stripe: Any) -> None:
    donation = gift_start(project, "40")
    Donation.objects.filter(pk=donation.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert tasks.receipts_catch_up() == 0
    assert mail.outbox == []


def _succeeded_gift(project: Any, name: str, minutes_ago: int, **fields: Any) -> Donation:
    return DonationFactory.create(
        project=project,
        amount=Money(Decimal("25"), "USD"),
        donor_name=name,
        donor_email=f"{name.lower().split()[0]}@example.org",
        succeeded=True,
        succeeded_at=timezone.now() - timedelta(minutes=minutes_ago),
        **fields,
    )


def test_one_bad_notice_does_not_block_the_catch_up_job(
    project: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The audit's case: a tribute name with a line break (stored before the form refused
    them) made Django refuse the notice's subject header; the job raised on every run and
    the notices queued behind it were never sent."""
    tribute = {"tribute_type": "memory", "receipt_sent_at": timezone.now()}
    bad = _succeeded_gift(
        project,
        "Bad Row",
        30,
        tribute_name="Gran\nBcc: x@example.org",
        tribute_notify_email="family@example.org",
        **tribute,
    )
    good = _succeeded_gift(
        project,
        "Good Row",
        20,
        tribute_name="Grandpa",
        tribute_notify_email="kin@example.org",
        **tribute,
    )
    receipt = _succeeded_gift(project, "Receipt Owed", 15)

    assert tasks.receipts_catch_up() == 2  # does not raise
    assert sorted(m.to[0] for m in mail.outbox) == ["kin@example.org", "receipt@example.org"]
    assert f"Catch-up email for {bad.pk} failed; going on with the rest" in caplog.text
    assert "BadHeaderError" in caplog.text
    good.refresh_from_db()
    assert good.tribute_notified_at is not None
    bad.refresh_from_db()
    assert bad.tribute_notified_at is None  # not marked sent: it was not
    # The next run tries the bad one again (and logs it again), and nothing else.
    mail.outbox.clear()
    assert tasks.receipts_catch_up() == 0
    assert mail.outbox == []
    assert receipt.pk
