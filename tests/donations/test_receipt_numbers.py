"""Receipt and statement numbers (issue 18, item 5): unique in their financial year and
without gaps, taken in the transaction of the gift's success, so two gifts succeeding at
once never share one and a rolled-back success leaves no gap; a corrected receipt keeps its
number with "-C<n>"; offline gifts and statements are numbered too."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.db import connection, connections, transaction
from django.utils import timezone

from donations.models import DocumentCounter, Donation
from donations.services import receipts
from donations.services.statements import financial_year_of
from finance.models import StatementSent
from finance.services.offline_gifts import OfflineGiftInput, offline_gift_record
from finance.services.statement_runs import statement_send
from tests.donations.matching_helpers import gift, refund, succeed
from tests.factories import StaffFactory

GIFTS_AT_ONCE = 8


def _year() -> int:
    return financial_year_of(timezone.now())


@pytest.mark.django_db(transaction=True)
def test_gifts_succeeding_at_once_get_unique_numbers_without_gaps(project: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks between connections")
    gifts = [gift(project, str(10 + i)) for i in range(GIFTS_AT_ONCE)]
    start = threading.Barrier(GIFTS_AT_ONCE)
    errors: list[BaseException] = []

    def pay(d: Donation) -> None:
        try:
            start.wait(10)
            succeed(d)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pay, args=(d,)) for d in gifts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    numbers = sorted(
        Donation.objects.filter(pk__in=[d.pk for d in gifts]).values_list(
            "receipt_number", flat=True
        )
    )
    year = _year()
    assert numbers == [f"{year}-{n:06d}" for n in range(1, GIFTS_AT_ONCE + 1)]
    assert DocumentCounter.objects.get(kind="receipt", year=year).last == GIFTS_AT_ONCE


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_success_takes_no_number(project: Any) -> None:
    first, second = gift(project, "20"), gift(project, "30")

    class Crash(Exception):
        pass

    def success_that_fails_later() -> None:
        with transaction.atomic():
            succeed(first)
            assert Donation.objects.get(pk=first.pk).receipt_number == f"{_year()}-000001"
            raise Crash  # e.g. the totals update failed: the whole success rolls back

    with pytest.raises(Crash):
        success_that_fails_later()
    assert Donation.objects.get(pk=first.pk).receipt_number == ""
    succeed(second)
    succeed(first)
    year = _year()
    assert Donation.objects.get(pk=second.pk).receipt_number == f"{year}-000001"
    assert Donation.objects.get(pk=first.pk).receipt_number == f"{year}-000002"


def test_a_replayed_success_keeps_its_number_and_the_receipt_shows_it(project: Any) -> None:
    d = gift(project, "40", donor_email="ana@example.org")
    succeed(d)
    succeed(d)  # the same event again
    d.refresh_from_db()
    assert d.receipt_number == f"{_year()}-000001"
    assert DocumentCounter.objects.get(kind="receipt").last == 1
    mail.outbox = []
    Donation.objects.filter(pk=d.pk).update(receipt_sent_at=None)
    assert receipts.receipt_send(donation_id=d.pk)
    message = mail.outbox[-1]
    assert f"Receipt number: {d.receipt_number}" in message.body
    html = str(message.alternatives[0][0])  # type: ignore[attr-defined]
    assert f'data-testid="receipt-number">{d.receipt_number}<' in html


def test_a_corrected_receipt_keeps_its_number_with_a_suffix(project: Any) -> None:
    d = gift(project, "50", donor_email="ana@example.org")
    succeed(d)
    refund(d, Decimal("10"))
    d.refresh_from_db()
    mail.outbox = []
    receipts.receipt_resend(donation_id=d.pk)
    assert f"Receipt number: {d.receipt_number}-C1" in mail.outbox[-1].body
    receipts.receipt_resend(donation_id=d.pk)
    assert f"Receipt number: {d.receipt_number}-C2" in mail.outbox[-1].body
    assert Donation.objects.get(pk=d.pk).receipt_number == d.receipt_number


def test_offline_gifts_are_numbered_in_the_same_sequence(project: Any) -> None:
    online = gift(project, "25")
    succeed(online)
    offline = offline_gift_record(
        gift=OfflineGiftInput(
            project=project,
            amount=Decimal("100"),
            currency=project.currency,
            donor_name="Carmen",
            donor_email="carmen@example.org",
            method="cheque",
            reference="004512",
            received_on=timezone.localdate(),
        ),
        actor=StaffFactory.create(username="desk"),
    )
    assert offline.donation.receipt_number == f"{_year()}-000002"


def test_statements_are_numbered_when_first_sent_and_keep_it(project: Any) -> None:
    for email in ("ana@example.org", "bo@example.org"):
        succeed(gift(project, "30", donor_email=email))
    year = _year()
    mail.outbox = []
    assert statement_send(donor_email="ana@example.org", year=year)
    assert statement_send(donor_email="bo@example.org", year=year)
    assert not statement_send(donor_email="ana@example.org", year=year)  # once
    assert statement_send(donor_email="ana@example.org", year=year, resend=True)
    numbers = dict(StatementSent.objects.values_list("donor_email", "number"))
    assert numbers == {"ana@example.org": f"{year}-S000001", "bo@example.org": f"{year}-S000002"}
    assert f"Statement number: {year}-S000001" in mail.outbox[-1].body
    assert f'data-testid="statement-number">{year}-S000001<' in str(
        mail.outbox[-1].alternatives[0][0]  # type: ignore[attr-defined]
    )
    assert statement_send(donor_email="nobody@example.org", year=year) is False
    assert DocumentCounter.objects.get(kind="statement", year=year).last == 2  # no gap
