"""Year-end statements: which gifts fall in a financial year, the acknowledgement wording,
the run as a Celery job that sends each statement once, and the explicit re-send."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core import mail
from django.test import Client
from djmoney.money import Money

from donations.models import Donation
from donations.services.statements import (
    financial_year_bounds,
    financial_year_label,
    statement_build,
)
from finance.models import FinanceAction, StatementRun, StatementSent
from projects.models import Project


def _gift(project: Project, email: str, amount: str, paid: datetime, **kw: Any) -> Donation:
    return Donation.objects.create(
        project=project,
        amount=Money(Decimal(amount), kw.pop("currency", "USD")),
        charged=Money(Decimal(amount), kw.pop("charged_currency", "USD")),
        donor_name=kw.pop("name", "Ana Quispe"),
        donor_email=email,
        status=kw.pop("status", Donation.Status.SUCCEEDED),
        succeeded_at=paid,
        **kw,
    )


def test_financial_year_from_the_setting(settings: Any) -> None:
    settings.TIME_ZONE = "America/New_York"
    settings.FINANCIAL_YEAR_START_MONTH = 7
    start, end = financial_year_bounds(2025)
    zone = ZoneInfo("America/New_York")
    assert start == datetime(2025, 7, 1, tzinfo=zone)
    assert end == datetime(2026, 7, 1, tzinfo=zone)
    assert financial_year_label(2025) == "2025–26"
    settings.FINANCIAL_YEAR_START_MONTH = 1
    assert financial_year_label(2025) == "2025"


def test_statement_lists_the_years_gifts_with_the_acknowledgement(
    settings: Any, project: Project
) -> None:
    settings.TIME_ZONE = "America/New_York"
    settings.FINANCIAL_YEAR_START_MONTH = 7
    settings.ORGANISATION_NAME = "Andes Trust"
    ny = ZoneInfo("America/New_York")
    # In: 1 July 00:30 local (04:30 UTC), partly refunded, a fee covered; Ana's other spelling.
    _gift(
        project,
        "ana@example.org",
        "100",
        datetime(2025, 7, 1, 0, 30, tzinfo=ny),
        refunded=Money(25, "USD"),
        status=Donation.Status.PARTIALLY_REFUNDED,
    )
    _gift(
        project,
        "ANA@example.org",
        "10.00",
        datetime(2026, 6, 30, 23, 59, tzinfo=ny),
        fee_covered=Money(Decimal("0.60"), "USD"),
        charged_currency="USD",
    )
    # Out: the minute before the year, the first minute after, refunded in full, disputed,
    # pending, and another donor.
    _gift(project, "ana@example.org", "7", datetime(2025, 6, 30, 23, 59, tzinfo=ny))
    _gift(project, "ana@example.org", "8", datetime(2026, 7, 1, 0, 0, tzinfo=ny))
    _gift(
        project,
        "ana@example.org",
        "9",
        datetime(2025, 8, 1, tzinfo=ny),
        refunded=Money(9, "USD"),
        status=Donation.Status.REFUNDED,
    )
    _gift(
        project,
        "ana@example.org",
        "11",
        datetime(2025, 8, 1, tzinfo=ny),
        status=Donation.Status.DISPUTED,
    )
    _gift(
        project,
        "ana@example.org",
        "12",
        datetime(2025, 8, 1, tzinfo=ny),
        status=Donation.Status.PENDING,
    )
    _gift(project, "bo@example.org", "13", datetime(2025, 8, 1, tzinfo=ny))
    s = statement_build(donor_email="Ana@Example.org", year=2025)
    assert [(str(line.date), line.amount.amount) for line in s.lines] == [
        ("2025-07-01", Decimal("75.00")),  # charged 100 less 25 refunded
        ("2026-06-30", Decimal("10.00")),
    ]
    assert s.totals == [Money(Decimal("85.00"), "USD")]
    assert str(s.start) == "2025-07-01" and str(s.end) == "2026-06-30"
    assert s.label == "2025–26"
    assert s.acknowledgement.startswith("Andes Trust acknowledges")
    assert "No goods or services were provided in exchange" in s.acknowledgement
    assert statement_build(donor_email="nobody@example.org", year=2025).is_empty


def test_statement_run_sends_each_once_and_resend_is_explicit(
    finance_client: Client, project: Project, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TIME_ZONE = "UTC"
    settings.FINANCIAL_YEAR_START_MONTH = 1
    utc = ZoneInfo("UTC")
    _gift(project, "ana@example.org", "50", datetime(2025, 3, 1, tzinfo=utc))
    _gift(project, "ana@example.org", "25", datetime(2025, 9, 1, tzinfo=utc))
    _gift(project, "bo@example.org", "40", datetime(2025, 5, 1, tzinfo=utc), name="Bo")
    _gift(project, "cy@example.org", "40", datetime(2024, 5, 1, tzinfo=utc), name="Cy")
    mail.outbox.clear()
    url = "/admin/donations/financedesk/statements/"
    with django_capture_on_commit_callbacks(execute=True):
        response = finance_client.post(url, {"form": "run", "year": "2025"})
    assert response.status_code == 302
    run = StatementRun.objects.get()
    assert (run.status, run.total, run.done, run.sent, run.skipped) == ("done", 2, 2, 2, 0)
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.org", "bo@example.org"]
    ana = next(m for m in mail.outbox if m.to == ["ana@example.org"])
    assert ana.subject == "Your 2025 giving statement from Conservation Campaigns (demo)"
    assert "$75" in ana.body and "No goods or services were provided" in ana.body
    html = ana.alternatives[0][0]  # type: ignore[attr-defined]
    assert "<table" in html and "$50" in html
    page = finance_client.get(url).content.decode()
    assert "2 / 2" in page
    # A second run sends nothing: each statement goes once.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(url, {"form": "run", "year": "2025"})
    assert mail.outbox == []
    assert StatementRun.objects.order_by("-pk").first().skipped == 2  # type: ignore[union-attr]
    assert StatementSent.objects.count() == 2
    # Re-sending is explicit, and may go to a corrected address.
    response = finance_client.post(
        url,
        {"form": "resend", "email": "ana@example.org", "year": "2025", "to": "ana.q@example.org"},
    )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["ana.q@example.org"]]
    sent = StatementSent.objects.get(donor_email="ana@example.org")
    assert sent.resent_count == 1 and sent.sent_to == "ana.q@example.org"
    kinds = list(FinanceAction.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["statement_run", "statement_run", "statement_resend"]
    missing = finance_client.post(
        url, {"form": "resend", "email": "nobody@example.org", "year": "2025", "to": ""}
    )
    assert missing.status_code == 400
    assert "no gifts in that year" in missing.content.decode()
    printable = finance_client.get(
        "/admin/donations/financedesk/statements/print/",
        {"email": "ana@example.org", "year": "2025"},
    )
    assert printable.status_code == 200
    body = printable.content.decode()
    assert "Giving statement for the financial year 2025" in body and "$75" in body
    assert "<script" not in body
