"""Receipts go out once per gift even when two runs race, and a slow mail server never holds
the donation's row: the gift's next Stripe event is applied while the mail is in flight."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection

from donations.models import Donation
from donations.services import receipts
from tests.donations.matching_helpers import gift, refund, succeed

sending = threading.Event()
release = threading.Event()


class SlowMailServer(EmailBackend):
    """An SMTP server that takes its time: answers only once the test releases it."""

    def send_messages(self, messages: Any) -> int:
        sending.set()
        release.wait(timeout=20)
        return super().send_messages(messages)


@pytest.mark.django_db(transaction=True)
def test_one_receipt_and_no_row_lock_while_the_mail_server_is_slow(
    project: Any, settings: Any
) -> None:
    d = gift(project, "40")
    succeed(d)  # its receipt task ran with the fast backend: take it back
    Donation.objects.filter(pk=d.pk).update(receipt_sent_at=None)
    settings.EMAIL_BACKEND = f"{__name__}.SlowMailServer"
    sending.clear()
    release.clear()
    mail.outbox = []
    results: dict[str, bool] = {}

    def send(name: str) -> None:
        try:
            results[name] = receipts.receipt_send(donation_id=str(d.pk))
        finally:
            connection.close()

    first = threading.Thread(target=send, args=("first",))
    first.start()
    assert sending.wait(timeout=20), "the first run never reached the mail server"
    second = threading.Thread(target=send, args=("second",))  # a redelivered task
    second.start()

    refund(d, Decimal("10"))  # the gift's next event, while the mail is still in flight
    assert first.is_alive() and not release.is_set()  # so it did not wait for the mail
    assert Donation.objects.get(pk=d.pk).status == Donation.Status.PARTIALLY_REFUNDED

    release.set()
    first.join(timeout=20)
    second.join(timeout=20)
    assert results == {"first": True, "second": False}
    assert len(mail.outbox) == 1
    assert Donation.objects.get(pk=d.pk).receipt_sent_at is not None
