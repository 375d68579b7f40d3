"""The desk's money lists as a finance officer reads them: money right-aligned with its
currency, totals of the selected rows (never of a whole unfiltered table), filters by paid
dates, payout and method, and search by payout, balance transaction and cheque reference."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.test import Client
from django.utils import timezone
from djmoney.money import Money

from donations.models import Payout
from finance.admin.money_lists import money_text
from finance.models import FinanceAction
from finance.services import offline_gifts
from projects.models import Project
from tests.factories import DonationFactory, PayoutFactory, PayoutLineFactory

LIST = "/admin/donations/donation/"


def _rows(html: str) -> int:
    return html.count('class="field-created_at')


def test_money_text_has_thousands_marks_and_its_currency() -> None:
    assert money_text(Decimal("1250"), "usd") == "1,250.00 USD"
    assert money_text(Decimal("-3.5"), "EUR") == "-3.50 EUR"
    assert money_text(Decimal("5000"), "JPY") == "5,000 JPY"
    assert money_text(None, "USD") == ""


def _gifts(project: Project) -> None:
    for amount, fee in (("1000.00", "29.30"), ("250.50", "7.56")):
        DonationFactory.create(
            project=project,
            succeeded=True,
            amount=Money(Decimal(amount), "USD"),
            settled=Money(Decimal(amount), "USD"),
            stripe_fee=Money(Decimal(fee), "USD"),
            net=Money(Decimal(amount) - Decimal(fee), "USD"),
        )


def test_the_donations_list_shows_money_and_totals_of_the_filtered_rows(
    finance_client: Client, project: Project
) -> None:
    _gifts(project)
    html = finance_client.get(LIST).content.decode()
    assert '<td class="field-amount_money">1,000.00 USD</td>' in html
    assert "finance.css" in html
    # Unfiltered: no totals of the whole table, a note instead.
    assert 'class="money-totals"' not in html and "Totals are shown for a filtered list" in html
    html = finance_client.get(LIST, {"project__id__exact": project.pk}).content.decode()
    assert 'class="money-totals"' in html
    assert "Total (USD), 2 rows" in html
    assert "1,250.50 USD" in html  # amount
    assert "36.86 USD" in html  # fees
    assert "1,213.64 USD" in html  # net


def test_totals_wait_for_a_narrower_list_when_large(
    finance_client: Client, project: Project, monkeypatch: Any
) -> None:
    from finance.admin import money_lists

    _gifts(project)
    monkeypatch.setattr(money_lists, "TOTALS_UP_TO", 1)
    html = finance_client.get(LIST, {"status__exact": "succeeded"}).content.decode()
    assert 'class="money-totals"' not in html and "narrow the list" in html


def test_search_and_filter_by_payout_balance_transaction_and_reference(
    finance: Any, project: Project
) -> None:
    user, client = finance
    _gifts(project)
    paid = DonationFactory.create(project=project, succeeded=True, donor_name="In the payout")
    payout = PayoutFactory.create(stripe_id="po_findme")
    PayoutLineFactory.create(payout=payout, donation=paid, balance_transaction_id="txn_findme")
    from donations.models import LedgerEntry

    LedgerEntry.objects.create(
        kind=LedgerEntry.Kind.GIFT,
        project=project,
        donation=paid,
        amount=Money(50, "USD"),
        occurred_at=timezone.now(),
        balance_transaction_id="txn_findme",
    )
    offline = offline_gifts.offline_gift_record(
        gift=offline_gifts.OfflineGiftInput(
            project=project,
            amount=Decimal(75),
            currency="USD",
            donor_name="By cheque",
            donor_email="",
            method="cheque",
            reference="CHQ 004455",
            received_on=timezone.localdate(),
        ),
        actor=user,
    )
    for params, shown in (
        ({"q": "po_findme"}, "In the payout"),
        ({"payout": "po_findme"}, "In the payout"),
        ({"q": "txn_findme"}, "In the payout"),
        ({"q": "chq 004455"}, "By cheque"),
        ({"method": "cheque"}, "By cheque"),
    ):
        html = client.get(LIST, params).content.decode()
        assert _rows(html) == 1, params
        assert shown in html, params
    assert _rows(client.get(LIST, {"method": "card"}).content.decode()) == 3
    assert offline.donation.pk


def test_the_paid_date_range_filter(finance_client: Client, project: Project) -> None:
    _gifts(project)
    today = timezone.localdate().isoformat()
    html = finance_client.get(LIST, {"paid_from": today, "paid_to": today}).content.decode()
    assert _rows(html) == 2
    assert 'name="paid_from" value="' + today in html
    response = finance_client.get(LIST, {"paid_from": "2001-01-01", "paid_to": "2001-12-31"})
    assert _rows(response.content.decode()) == 0


def test_the_ledger_payouts_and_lines_lists_show_money_and_totals(
    finance_client: Client,
) -> None:
    payout = PayoutFactory.create(stripe_id="po_lines", amount=Money(Decimal("1234.50"), "USD"))
    PayoutLineFactory.create(payout=payout, amount=Decimal("1300.00"), fee=Decimal("65.50"))
    html = finance_client.get(
        "/admin/donations/payoutline/", {"payout__id__exact": payout.pk}
    ).content.decode()
    assert '<td class="field-fee_money">65.50 USD</td>' in html
    assert "Total (USD), 1 row" in html and "1,234.50 USD" in html
    html = finance_client.get(
        "/admin/donations/payout/", {"status__exact": "paid"}
    ).content.decode()
    assert '<td class="field-amount_money">1,234.50 USD</td>' in html
    assert "Total (USD), 1 row" in html
    assert finance_client.get("/admin/donations/ledgerentry/").status_code == 200


def test_the_dashboard_has_thousands_marks_and_says_what_each_column_holds(
    finance_client: Client,
) -> None:
    PayoutFactory.create(amount=Money(Decimal("12345.60"), "USD"), arrival_date=timezone.now())
    html = finance_client.get("/admin/donations/financedesk/dashboard/").content.decode()
    assert "12,345.60 USD" in html
    assert "<dt>Matched</dt>" in html and "not in the net" in html


def test_a_payout_page_shows_its_money_per_project_and_links_its_journal(
    finance_client: Client, project: Project
) -> None:
    from donations.models import LedgerEntry

    payout = PayoutFactory.create(stripe_id="po_summary", amount=Money(Decimal("1164.00"), "USD"))
    now = timezone.now()
    for kind, settled in (("gift", "1200.00"), ("fee", "-36.00")):
        LedgerEntry.objects.create(
            kind=kind,
            project=project,
            amount=Money(Decimal(settled), "USD"),
            settled=Money(Decimal(settled), "USD"),
            occurred_at=now,
            payout=payout,
        )
    html = finance_client.get(f"/admin/donations/payout/{payout.pk}/change/").content.decode()
    assert 'class="finance-table payout-summary"' in html
    assert project.title in html
    assert "1,200.00 USD" in html and "-36.00 USD" in html and "1,164.00 USD" in html
    link = "/admin/donations/financedesk/exports/?kind=journal&amp;payout=po_summary"
    assert link in html
    form = finance_client.get(link.replace("&amp;", "&")).content.decode()
    assert 'value="po_summary"' in form
    assert '<option value="journal" selected>' in form


def test_a_paid_payouts_page_downloads_its_journal_and_an_unpaid_one_offers_none(
    finance_client: Client, editor_client: Client
) -> None:
    import csv
    import io

    from finance.services.journals import QUICKBOOKS_HEADERS, XERO_HEADERS

    paid = PayoutFactory.create(
        stripe_id="po_download", amount=Money(Decimal("0"), "USD"), arrival_date=timezone.now()
    )
    html = finance_client.get(f"/admin/donations/payout/{paid.pk}/change/").content.decode()
    for system, headers in (("xero", XERO_HEADERS), ("quickbooks", QUICKBOOKS_HEADERS)):
        url = f"/admin/donations/payout/{paid.pk}/journal/{system}/"
        assert url in html
        response = finance_client.get(url)
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0] == headers
        assert editor_client.get(url).status_code in (302, 403)  # the desk's only
    assert FinanceAction.objects.filter(kind=FinanceAction.Kind.EXPORT).count() == 2
    in_transit = PayoutFactory.create(stripe_id="po_transit", status=Payout.Status.IN_TRANSIT)
    html = finance_client.get(f"/admin/donations/payout/{in_transit.pk}/change/").content.decode()
    assert "/journal/xero/" not in html
    assert "once the payout is paid" in html
