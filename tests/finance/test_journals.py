"""The journals against the importers' documented layouts (Xero's manual journal template,
QuickBooks Online's journal entry import), and every file checked by an independent
double-entry tool: converted to a plain-text hledger journal, ``hledger check`` and
``hledger balance`` must agree that each entry balances."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from djmoney.money import Money

from donations.models import LedgerEntry, Payout
from finance.models import OfflineBatch
from finance.services import journals
from finance.services.offline_gifts import OfflineGiftInput, offline_gift_record, offline_gift_void
from projects.models import Project
from tests.factories import StaffFactory
from tests.finance.hledger_books import hledger, quickbooks_ledger, xero_ledger

XERO = [
    "*Narration",
    "*Date",
    "Description",
    "*AccountCode",
    "*TaxRate",
    "*Amount",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
]
QUICKBOOKS = [
    "Journal No",
    "Journal Date",
    "Account Name",
    "Debits",
    "Credits",
    "Description",
    "Name",
    "Location",
    "Class",
]
RAW = re.compile(
    r"\b(po|ch|pi|txn|re|dp|cs|py)_\w+|\b(" + "|".join(k for k in LedgerEntry.Kind.values) + r")\b"
)


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _offline(project: Project, amount: str, batch: OfflineBatch | None, user: User) -> Any:
    return offline_gift_record(
        gift=OfflineGiftInput(
            project=project,
            amount=Decimal(amount),
            currency="USD",
            donor_name="Cheque donor",
            donor_email="",
            method="cheque",
            reference="000123",
            received_on=date.today(),  # noqa: DTZ011 - the day as the desk types it
            batch_id=batch.pk if batch else None,
        ),
        actor=user,
    )


@pytest.fixture
def month(books: dict[str, Any], project: Project) -> dict[str, Any]:
    """The books, and what never passes through Stripe: two cheques in a batch (one voided),
    one transfer in no batch; the pool matched the online gifts (and the offline ones)."""
    user = StaffFactory.create(username="desk")
    batch = OfflineBatch.objects.create(
        name="Slip 42", expected_count=2, expected_total=Money(Decimal(125), "USD")
    )
    _offline(project, "100", batch, user)
    voided = _offline(project, "25", batch, user)
    offline_gift_void(offline_id=voided.pk, reason="entered twice", actor=user)
    _offline(project, "30", None, user)
    return {**books, "batch": batch}


def _check_xero(path: Path, tmp_path: Path) -> list[dict[str, str]]:
    headers, rows = _rows(path)
    assert headers == XERO
    assert 0 < len(rows) <= journals.XERO_MAX_LINES
    per_journal: dict[tuple[str, str], Decimal] = {}
    for r in rows:
        datetime.strptime(r["*Date"], "%d/%m/%Y")  # noqa: DTZ007 - dd/mm/yyyy or ValueError
        key = (r["*Narration"], r["*Date"])
        per_journal[key] = per_journal.get(key, Decimal(0)) + Decimal(r["*Amount"])
        assert r["*TaxRate"] == "Tax Exempt"
        assert r["Description"] and not RAW.search(r["Description"]), r["Description"]
        assert bool(r["TrackingName1"]) == bool(r["TrackingOption1"])
    assert all(total == 0 for total in per_journal.values()), per_journal
    code, report = hledger(xero_ledger(path), tmp_path, path.name + ".journal")
    assert code == 0, report
    return rows


def _check_quickbooks(path: Path, tmp_path: Path, fmt: str = "%m/%d/%Y") -> list[dict[str, str]]:
    headers, rows = _rows(path)
    assert headers == QUICKBOOKS
    debits: dict[str, Decimal] = {}
    for r in rows:
        datetime.strptime(r["Journal Date"], fmt)  # noqa: DTZ007
        assert len(r["Journal No"]) <= 21  # QuickBooks' longest journal number
        assert r["Description"] and not RAW.search(r["Description"]), r["Description"]
        assert not r["Account Name"].isdigit()  # names, not codes
        change = Decimal(r["Debits"] or 0) - Decimal(r["Credits"] or 0)
        debits[r["Journal No"]] = debits.get(r["Journal No"], Decimal(0)) + change
    assert debits and all(total == 0 for total in debits.values()), debits
    code, report = hledger(quickbooks_ledger(path, date_format=fmt), tmp_path, path.name + ".j")
    assert code == 0, report
    return rows


def test_xero_journal_is_xeros_template_and_balances_in_hledger(
    month: dict[str, Any], project: Project, tmp_path: Path
) -> None:
    payout = month["payout"]
    call_command("export_journal", "--journal", "xero", "-o", str(tmp_path / "x.csv"))
    rows = _check_xero(tmp_path / "x.csv", tmp_path)
    narrations = {r["*Narration"] for r in rows}
    assert f"Stripe payout {payout.stripe_id} (USD)" in narrations
    ym = f"{date.today():%Y-%m}"  # noqa: DTZ011
    assert f"Matched gifts, month end {ym} (USD)" in narrations
    assert f"Offline gifts, batch Slip 42, month end {ym} (USD)" in narrations
    assert f"Offline gifts, no batch, month end {ym} (USD)" in narrations
    bank = [r for r in rows if r["*AccountCode"] == "090" and "payout" in r["*Narration"]]
    assert [Decimal(r["*Amount"]) for r in bank] == [payout.amount.amount]
    descriptions = {r["Description"] for r in rows}
    assert f"Gifts, {project.title}" in descriptions
    assert f"Refunds, {project.title}" in descriptions
    assert f"Stripe fees, {project.title}" in descriptions
    # The batch: the deposit of 125 and the void of 25, against the project's income.
    slip = [r for r in rows if "Slip 42" in r["*Narration"]]
    assert sorted(Decimal(r["*Amount"]) for r in slip) == [
        Decimal("-125.00"),
        Decimal("-25.00"),
        Decimal("25.00"),
        Decimal("125.00"),
    ]
    matched = sum(
        LedgerEntry.objects.filter(kind__in=LedgerEntry.MATCH_KINDS).values_list(
            "amount", flat=True
        ),
        Decimal(0),
    )
    pledged = sum(Decimal(r["*Amount"]) for r in rows if r["*AccountCode"] == "611")
    assert pledged == matched > 0


def test_quickbooks_journal_entries_balance_per_journal_no(
    month: dict[str, Any], project: Project, tmp_path: Path, settings: Any
) -> None:
    payout = month["payout"]
    call_command("export_journal", "--journal", "quickbooks", "-o", str(tmp_path / "q.csv"))
    rows = _check_quickbooks(tmp_path / "q.csv", tmp_path)
    numbers = {r["Journal No"] for r in rows}
    assert f"PAYOUT-{payout.pk}" in numbers and len(numbers) == 4
    bank = next(r for r in rows if r["Journal No"] == f"PAYOUT-{payout.pk}")
    assert bank["Account Name"] == "Business Bank Account"
    assert Decimal(bank["Debits"]) == payout.amount.amount
    assert {r["Class"] for r in rows} == {"", project.title}
    # The company's date format, and a currency column with multicurrency on.
    settings.JOURNAL_QUICKBOOKS_DATE_FORMAT = "dd/mm/yyyy"
    settings.JOURNAL_QUICKBOOKS_MULTICURRENCY = True
    call_command("export_journal", "--journal", "quickbooks", "-o", str(tmp_path / "q2.csv"))
    headers, rows2 = _rows(tmp_path / "q2.csv")
    assert headers == [*QUICKBOOKS, "Currency"]
    assert {r["Currency"] for r in rows2} == {"USD"}
    month_day_year = rows[0]["Journal Date"].split("/")
    day_month_year = [month_day_year[1], month_day_year[0], month_day_year[2]]
    assert rows2[0]["Journal Date"] == "/".join(day_month_year)


def test_an_unbalanced_entry_fails_the_hledger_check(month: dict[str, Any], tmp_path: Path) -> None:
    call_command("export_journal", "-o", str(tmp_path / "x.csv"))
    _check_xero(tmp_path / "x.csv", tmp_path)
    text = (tmp_path / "x.csv").read_text(encoding="utf-8").splitlines()
    cells = next(csv.reader([text[2]]))
    cells[5] = str(Decimal(cells[5]) + Decimal("0.01"))  # one cent off on one line
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    text[2] = out.getvalue()
    (tmp_path / "bad.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    code, report = hledger(xero_ledger(tmp_path / "bad.csv"), tmp_path, "bad.journal")
    assert code != 0 and "balance" in report, report


def test_xero_files_stay_within_the_line_limit(
    month: dict[str, Any], tmp_path: Path, monkeypatch: Any
) -> None:
    call_command("export_journal", "-o", str(tmp_path / "all.csv"))
    _h, rows = _rows(tmp_path / "all.csv")
    largest = max(
        sum(1 for r in rows if r["*Narration"] == n) for n in {r["*Narration"] for r in rows}
    )
    monkeypatch.setattr(journals, "XERO_MAX_LINES", largest)
    call_command("export_journal", "-o", str(tmp_path / "x.csv"))
    files = sorted(tmp_path.glob("x*.csv"))
    assert len(files) > 1
    seen = []
    for path in files:
        part = _check_xero(path, tmp_path)
        assert len(part) <= largest
        seen += part
    assert len(seen) == len(rows)  # every line, in one file or another, no journal split


def test_xero_refuses_xlsx(books: dict[str, Any], tmp_path: Path, finance_client: Client) -> None:
    with pytest.raises(CommandError, match="Xero imports manual journals from CSV only"):
        call_command("export_journal", "--format", "xlsx", "-o", str(tmp_path / "x.xlsx"))
    assert not (tmp_path / "x.xlsx").exists()
    url = "/admin/donations/financedesk/exports/"
    page = finance_client.post(
        url, {"kind": "journal", "format": "xlsx", "journal": "xero"}, follow=True
    )
    assert "Xero imports manual journals from CSV only" in page.content.decode()


@pytest.mark.parametrize("status", ["failed", "in_transit", "canceled"])
def test_a_journal_for_one_payout_needs_it_paid(
    books: dict[str, Any], tmp_path: Path, status: str
) -> None:
    payout = books["payout"]
    call_command("export_journal", "--payout", payout.stripe_id, "-o", str(tmp_path / "ok.csv"))
    _h, rows = _rows(tmp_path / "ok.csv")
    assert {r["*Narration"] for r in rows} == {f"Stripe payout {payout.stripe_id} (USD)"}
    Payout.objects.filter(pk=payout.pk).update(status=status)
    with pytest.raises(CommandError, match="not paid"):
        call_command("export_journal", "--payout", payout.stripe_id, "-o", str(tmp_path / "no.csv"))
    assert not (tmp_path / "no.csv").exists()
    with pytest.raises(CommandError, match="No payout"):
        call_command("export_journal", "--payout", "po_nothing", "-o", str(tmp_path / "no.csv"))


def test_the_ledger_export_says_each_rows_account(month: dict[str, Any], tmp_path: Path) -> None:
    call_command("export_ledger", "-o", str(tmp_path / "l.csv"))
    _h, rows = _rows(tmp_path / "l.csv")
    by_kind: dict[str, set[tuple[str, str]]] = {}
    for r in rows:
        by_kind.setdefault(r["kind"], set()).add((r["account"], r["contra_account"]))
    assert by_kind["gift"] == {("610", "200")}
    assert by_kind["fee"] == {("610", "404")}
    assert by_kind["refund"] == {("610", "210")}
    assert by_kind["match"] == {("611", "220")}
    assert by_kind["offline_gift"] == by_kind["offline_void"] == {("090", "200")}
    clearing = sum(
        Decimal(r["debit"] or 0) - Decimal(r["credit"] or 0)
        for r in rows
        if r["account"] == "610" and r["currency"] == "USD"
    )
    gifts = LedgerEntry.objects.filter(amount_currency="USD").exclude(
        kind__in=[*LedgerEntry.MATCH_KINDS, "offline_gift", "offline_void"]
    )
    assert clearing == sum(gifts.values_list("amount", flat=True), Decimal(0))


def test_the_month_end_journal_is_the_months_whole(month: dict[str, Any], tmp_path: Path) -> None:
    today = date.today()  # noqa: DTZ011
    call_command(
        "export_journal",
        "--from",
        f"{today:%Y-%m}-01",
        "--to",
        f"{today:%Y-%m}-01",
        "--journal",
        "quickbooks",
        "-o",
        str(tmp_path / "q.csv"),
    )
    rows = _check_quickbooks(tmp_path / "q.csv", tmp_path)
    assert {r["Journal No"].split("-")[0] for r in rows} >= {"MATCH", "BATCH", "OFFLINE"}
