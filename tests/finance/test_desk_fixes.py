"""Issue 18's desk fixes, each shown to fail on the code before it: the batch's gifts for
Finance, a statement run that counts only what left, mistyped admin URLs as 404s, refund
amounts with a comma, no email lookups through the URL without the contact permission, and
the lesser ones (the dashboard's payouts by date, an empty statement's wording, the offline
gift's currency, a gift's title)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django.utils import timezone
from djmoney.money import Money

from donations.models import Donation
from finance.models import OfflineBatch, StatementRun, StatementSent
from finance.services import offline_gifts
from finance.services.desk_refunds import RefundRefused, parse_amount
from finance.services.statement_runs import statement_send
from projects.models import Project
from tests.factories import DonationFactory, PayoutFactory, StaffFactory

UTC = ZoneInfo("UTC")


def test_finance_sees_a_batchs_gifts(finance: Any, project: Project) -> None:
    user, client = finance
    batch = OfflineBatch.objects.create(
        name="Slip 7", expected_count=1, expected_total=Money(100, "USD"), created_by=user
    )
    offline_gifts.offline_gift_record(
        gift=offline_gifts.OfflineGiftInput(
            project=project,
            amount=Decimal(100),
            currency="USD",
            donor_name="Carmen",
            donor_email="",
            method="cheque",
            reference="CHQ 000777",
            received_on=timezone.localdate(),
            batch_id=batch.pk,
        ),
        actor=user,
    )
    assert not user.is_superuser
    html = client.get(f"/admin/donations/offlinebatch/{batch.pk}/change/").content.decode()
    assert 'id="gifts-group"' in html and "CHQ 000777" in html


def _gift(project: Project, email: str, amount: str = "50") -> Donation:
    return Donation.objects.create(
        project=project,
        amount=Money(Decimal(amount), "USD"),
        charged=Money(Decimal(amount), "USD"),
        donor_name="Ana",
        donor_email=email,
        status=Donation.Status.SUCCEEDED,
        succeeded_at=datetime(2025, 3, 1, tzinfo=UTC),
    )


def test_a_statement_run_counts_only_what_left(
    finance_client: Client, project: Project, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TIME_ZONE = "UTC"
    settings.FINANCIAL_YEAR_START_MONTH = 1
    _gift(project, "ana@example.org")
    _gift(project, "bo@example.org")
    _gift(project, "")  # an offline gift recorded without an address
    _gift(project, "   ")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(
            "/admin/donations/financedesk/statements/", {"form": "run", "year": "2025"}
        )
    run = StatementRun.objects.get()
    assert len(mail.outbox) == 2
    assert (run.total, run.sent) == (2, 2)
    assert StatementSent.objects.count() == 2
    assert statement_send(donor_email="", year=2025) is False
    assert statement_send(donor_email="  ", year=2025, resend=True) is False
    assert StatementSent.objects.count() == 2


@pytest.mark.parametrize(
    "url",
    [
        "/admin/donations/donation/not-a-uuid/change/",
        "/admin/donations/donation/not-a-uuid/",
        "/admin/donations/donation/not-a-uuid/resend/",
        "/admin/donations/donation/not-a-uuid/resend-receipt/",
        "/admin/donations/donation/not-a-uuid/refund/",
        "/admin/donations/donation/not-a-uuid/cancel-monthly/",
        "/admin/donations/donation/00000000-0000-0000-0000-000000000000/resend-receipt/",
        "/admin/donations/offlinebatch/not-a-number/change/",
    ],
)
def test_a_mistyped_admin_url_is_a_404(finance_client: Client, url: str) -> None:
    response = finance_client.get(url, follow=True)
    assert response.status_code == 404, url


def test_a_missing_gift_is_the_admins_own_answer(finance_client: Client) -> None:
    # Django's admin answers a well-formed id of no row with a message, not an error.
    for url in (
        "/admin/donations/donation/00000000-0000-0000-0000-000000000000/change/",
        "/admin/donations/offlinegift/not-a-number/change/",
        "/admin/donations/donation/not-a-uuid/history/",
    ):
        response = finance_client.get(url, follow=True)
        assert response.status_code == 200, url
        assert "doesn’t exist" in response.content.decode(), url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("5.00", "5.00"), ("1,000.50", "1000.50"), ("12,345", "12345"), (" 7 ", "7")],
)
def test_refund_amounts_read_commas_only_as_thousands(raw: str, expected: str) -> None:
    assert parse_amount(raw, "USD") == Decimal(expected)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("5,00", "use a point for decimals: 5.00"),
        ("1,5", "use a point for decimals: 1.5"),
        ("1.000,50", "use a point for decimals: 1000.50"),
        ("1,00,000", "is not an amount"),
        ("abc", "is not an amount"),
    ],
)
def test_refund_amounts_with_a_decimal_comma_are_refused(raw: str, message: str) -> None:
    with pytest.raises(RefundRefused, match=message):
        parse_amount(raw, "USD")


@pytest.mark.parametrize(
    "params",
    [
        {"donor_email__startswith": "a"},
        {"donor_email__regex": "^a"},
        {"donor_email": "ana@example.org"},
        {"tribute_notify_email__icontains": "a"},
        {"donor_email__isnull": "False"},
    ],
)
def test_no_email_lookups_without_the_contact_permission(
    project: Project, params: dict[str, str]
) -> None:
    DonationFactory.create(project=project, donor_email="ana@example.org")
    clerk = StaffFactory.create(username="clerk", password="pw")
    clerk.user_permissions.add(Permission.objects.get(codename="view_donation"))
    client = Client()
    client.force_login(clerk)
    response = client.get("/admin/donations/donation/", params)
    assert response.status_code == 400, params


def test_finance_may_still_look_up_by_email(finance_client: Client, project: Project) -> None:
    DonationFactory.create(project=project, donor_email="ana@example.org")
    response = finance_client.get("/admin/donations/donation/", {"donor_email": "ana@example.org"})
    assert response.status_code == 200


def test_the_dashboards_payouts_follow_the_date_range(finance_client: Client) -> None:
    PayoutFactory.create(amount=Money(Decimal("111.00"), "USD"), arrival_date=timezone.now())
    PayoutFactory.create(
        amount=Money(Decimal("222.00"), "USD"), arrival_date=timezone.now() - timedelta(days=400)
    )
    today = timezone.localdate()
    html = finance_client.get(
        "/admin/donations/financedesk/dashboard/",
        {"date_from": (today - timedelta(days=30)).isoformat(), "date_to": today.isoformat()},
    ).content.decode()
    assert "111.00" in html
    assert "222.00" not in html


def test_an_empty_statement_makes_no_acknowledgement(db: None) -> None:
    from django.template.loader import render_to_string

    from donations.services.statements import statement_build

    statement = statement_build(donor_email="nobody@example.org", year=2025)
    assert statement.is_empty
    for template in ("donations/statement_print.html", "donations/email/statement.txt"):
        text = render_to_string(template, {"statement": statement})
        assert statement.acknowledgement not in text, template
        assert "goods or services" not in text, template


def test_the_offline_gift_form_defaults_to_the_projects_currency(
    finance_client: Client, make_project: Any
) -> None:
    gbp = make_project(slug="gbp-project", cost=Money(Decimal(1000), "GBP"))
    html = finance_client.get("/admin/donations/offlinegift/add/").content.decode()
    assert '<option value="USD" selected>' in html
    html = finance_client.get(
        f"/admin/donations/offlinegift/add/?project={gbp.pk}"
    ).content.decode()
    assert '<option value="GBP" selected>' in html


def test_a_gift_is_titled_with_its_project_and_status(project: Project) -> None:
    d = DonationFactory.create(
        project=project, amount=Money(Decimal(120), "USD"), status="partially_refunded"
    )
    assert str(d) == f"$120.00 to {project.title} (Partially refunded)"
