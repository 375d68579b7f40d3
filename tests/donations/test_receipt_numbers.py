"""Receipt and statement numbers (issue 18, item 5): unique in their financial year and
without gaps. Since issue 19 a gift's number is issued with its receipt, in a short
transaction of its own (not in the gift's success, which would make every gift queue on the
year's counter): two receipts issued at once never share one, a rolled-back issue leaves no
gap, a gift never takes two; a corrected receipt keeps its number with "-C<n>"; offline
gifts and statements are numbered too."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.db import connection, connections, transaction
from django.utils import timezone

from donations.models import DocumentCounter, Donation
from donations.services import receipt_numbers, receipts
from donations.services.statements import financial_year_of
from finance.models import StatementSent
from finance.services.offline_gifts import OfflineGiftInput, offline_gift_record
from finance.services.statement_runs import statement_send
from tests.donations.matching_helpers import gift, refund, succeed
from tests.factories import StaffFactory

GIFTS_AT_ONCE = 8


def _year() -> int:
    return financial_year_of(timezone.now())


def _numbers(gifts: list[Donation]) -> list[str]:
    pks = [d.pk for d in gifts]
    return sorted(Donation.objects.filter(pk__in=pks).values_list("receipt_number", flat=True))


def _at_once(calls: list[Any]) -> None:
    start = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Any) -> None:
        try:
            start.wait(10)
            call()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors


@pytest.mark.django_db(transaction=True)
def test_receipts_sent_at_once_get_unique_numbers_without_gaps(project: Any, settings: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks between connections")
    gifts = [gift(project, str(10 + i)) for i in range(GIFTS_AT_ONCE)]
    for d in gifts:
        succeed(d)  # its receipt goes out at commit (tasks run in-process here): undone
    Donation.objects.update(receipt_number="", receipt_sent_at=None)
    DocumentCounter.objects.all().delete()
    # Each receipt task twice (a redelivered task): still one number per gift.
    _at_once([lambda d=d: receipts.receipt_send(donation_id=d.pk) for d in gifts * 2])
    year = _year()
    assert _numbers(gifts) == [f"{year}-{n:06d}" for n in range(1, GIFTS_AT_ONCE + 1)]
    assert DocumentCounter.objects.get(kind="receipt", year=year).last == GIFTS_AT_ONCE
    sent = Donation.objects.filter(pk__in=[d.pk for d in gifts], receipt_sent_at__isnull=False)
    assert sent.count() == GIFTS_AT_ONCE


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_issue_takes_no_number(project: Any) -> None:
    first, second = gift(project, "20"), gift(project, "30")
    succeed(first)
    succeed(second)
    Donation.objects.update(receipt_number="")  # as if neither receipt had gone out yet
    DocumentCounter.objects.all().delete()

    class Crash(Exception):
        pass

    def issue_that_fails_later() -> None:
        with transaction.atomic():
            assert receipt_numbers.receipt_number_issue(donation_id=first.pk) == f"{_year()}-000001"
            raise Crash  # e.g. the connection dropped before commit

    with pytest.raises(Crash):
        issue_that_fails_later()
    assert Donation.objects.get(pk=first.pk).receipt_number == ""
    receipt_numbers.receipt_number_issue(donation_id=second.pk)
    receipt_numbers.receipt_number_issue(donation_id=first.pk)
    year = _year()
    assert Donation.objects.get(pk=second.pk).receipt_number == f"{year}-000001"
    assert Donation.objects.get(pk=first.pk).receipt_number == f"{year}-000002"


def test_a_success_takes_no_number_its_receipt_does(project: Any) -> None:
    """The year's counter is one row for the whole site: the gift's success (which holds its
    locks to commit) never touches it; the receipt, sent after, issues the number."""
    d = gift(project, "20")
    succeed(d)  # no receipt task here: on_commit does not run in this test's transaction
    assert Donation.objects.get(pk=d.pk).receipt_number == ""
    assert not DocumentCounter.objects.exists()
    assert receipts.receipt_send(donation_id=d.pk)
    assert Donation.objects.get(pk=d.pk).receipt_number == f"{_year()}-000001"


def test_a_gift_never_paid_gets_no_number(project: Any) -> None:
    d = gift(project, "20")
    assert receipt_numbers.receipt_number_issue(donation_id=d.pk) == ""
    assert receipt_numbers.receipt_number_issue(donation_id="not-a-gift") == ""
    assert not receipts.receipt_send(donation_id=d.pk)
    assert not DocumentCounter.objects.exists()


def test_a_replayed_success_keeps_its_number_and_the_receipt_shows_it(project: Any) -> None:
    d = gift(project, "40", donor_email="ana@example.org")
    succeed(d)
    succeed(d)  # the same event again
    mail.outbox = []
    assert receipts.receipt_send(donation_id=d.pk)
    d.refresh_from_db()
    assert d.receipt_number == f"{_year()}-000001"
    message = mail.outbox[-1]
    assert f"Receipt number: {d.receipt_number}" in message.body
    html = str(message.alternatives[0][0])  # type: ignore[attr-defined]
    assert f'data-testid="receipt-number">{d.receipt_number}<' in html
    succeed(d)
    Donation.objects.filter(pk=d.pk).update(receipt_sent_at=None)
    assert receipts.receipt_send(donation_id=d.pk)  # sent again: the same number
    assert f"Receipt number: {d.receipt_number}" in mail.outbox[-1].body
    assert DocumentCounter.objects.get(kind="receipt").last == 1


def test_a_corrected_receipt_keeps_its_number_with_a_suffix(project: Any) -> None:
    d = gift(project, "50", donor_email="ana@example.org")
    succeed(d)
    receipts.receipt_send(donation_id=d.pk)
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
    receipts.receipt_send(donation_id=online.pk)
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


def test_the_print_page_shows_a_number_before_the_email_went_out(project: Any) -> None:
    """A donor who opens the receipt on My gifts before the receipt task ran gets it numbered
    (the same number the email then carries)."""
    from django.test import Client

    from donations.views_donor import SESSION_KEY

    d = gift(project, "40", donor_email="ana@example.org")
    succeed(d)
    donor = Client()
    session = donor.session
    session[SESSION_KEY] = "ana@example.org"
    session.save()
    page = donor.get(f"/my-gifts/receipts/{d.pk}/")
    assert page.status_code == 200
    number = f"{_year()}-000001"
    assert f'data-testid="receipt-number">{number}<' in page.content.decode()
    mail.outbox = []
    assert receipts.receipt_send(donation_id=d.pk)
    assert f"Receipt number: {number}" in mail.outbox[-1].body
    assert DocumentCounter.objects.get(kind="receipt").last == 1
