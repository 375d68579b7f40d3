"""Exports checked against the ledger and the payout lines, in two currencies, with a
refund and a match; through the commands and through the admin (Finance yes, Editor no)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.test import Client
from django.utils import timezone
from djmoney.money import Money
from openpyxl import load_workbook

from donations.models import Donation, LedgerEntry, Payout, PayoutLine
from finance.models import ExportJob, FinanceAction
from finance.services import donation_export, export_filters, export_formats
from projects.models import FundingTotals, Project


def _read(path: Path | str) -> list[dict[str, str]]:
    with Path(path).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode())))


def test_donations_and_ledger_exports_add_up_to_the_thermometer(
    books: dict[str, Any], project: Project, tmp_path: Path
) -> None:
    call_command("export_donations", "--format", "csv", "-o", str(tmp_path / "d.csv"))
    call_command("export_ledger", "--format", "csv", "-o", str(tmp_path / "l.csv"))
    gifts = _read(tmp_path / "d.csv")
    ledger = _read(tmp_path / "l.csv")
    totals = FundingTotals.objects.get(project=project)
    thermometer = totals.raised.amount + totals.matched.amount
    assert len(gifts) == 2  # one row per gift
    counted = sum(Decimal(r["counted"]) + Decimal(r["match_amount"]) for r in gifts)
    assert counted == thermometer
    assert sum(Decimal(r["to_thermometer"]) for r in gifts) == thermometer
    assert sum(Decimal(r["project_amount"]) for r in ledger) == thermometer
    assert len(ledger) == LedgerEntry.objects.count()
    # Two currencies: the EUR gift keeps its own amount and Stripe's settlement.
    eur = next(r for r in gifts if r["currency"] == "EUR")
    d = books["eur"]
    d.refresh_from_db()
    assert eur["amount"] == "40.00" and eur["settled_currency"] == "USD"
    assert Decimal(eur["settled"]) == d.settled.amount
    assert Decimal(eur["exchange_rate"]) == d.exchange_rate
    usd = next(r for r in gifts if r["currency"] == "USD")
    assert usd["refunded"] == "10.00" and usd["status"] == "partially_refunded"
    assert Decimal(usd["match_amount"]) > 0 and usd["match_pool"] == "Sponsor"
    assert usd["donor_email"] == "ana@example.org"
    # Every gift arrived in the payout; the ledger's rows name it.
    payout = books["payout"]
    assert {r["payout"] for r in gifts} == {payout.stripe_id}
    assert "paid (UTC)" in gifts[0]
    # Signed amounts, and debit / credit columns that say the same.
    for r in ledger:
        amount = Decimal(r["amount"])
        assert (Decimal(r["debit"] or 0) - Decimal(r["credit"] or 0)) == amount, r
    kinds = {r["kind"] for r in ledger}
    assert {"gift", "fee", "refund", "match", "match_reversal"} <= kinds
    # The payout's ledger rows add up (settled) to what its lines say arrived.
    on_payout = [r for r in ledger if r["payout"] == payout.stripe_id]
    lines_net = PayoutLine.objects.filter(payout=payout).aggregate(s=Sum("net"))["s"]
    assert sum(Decimal(r["settled"]) for r in on_payout) == lines_net == payout.amount.amount


def test_filters_narrow_and_bad_filters_say_why(
    books: dict[str, Any], project: Project, tmp_path: Path, capsys: Any
) -> None:
    out = tmp_path / "eur.csv"
    call_command("export_donations", "--currency", "EUR", "-o", str(out))
    assert [r["currency"] for r in _read(out)] == ["EUR"]
    call_command(
        "export_ledger", "--kind", "refund", "--payout", books["payout"].stripe_id, "-o", str(out)
    )
    assert [r["kind"] for r in _read(out)] == ["refund"]
    call_command(
        "export_donations", "--project", project.slug, "--from", "2000-01-01", "-o", str(out)
    )
    assert len(_read(out)) == 2
    call_command("export_donations", "--to", "2000-01-01", "-o", str(out))
    assert _read(out) == []
    for args, message in [
        (["--from", "2026-02-30"], "is not a date"),
        (["--from", "2026-02-02", "--to", "2026-02-01"], "is after --to"),
        (["--project", "no-such"], "No project 'no-such'"),
        (["--payout", "po_missing"], "No payout 'po_missing'"),
        (["--status", "paid"], "Unknown status paid"),
        (["--currency", "XYZ"], "Unknown currency"),
        (["--format", "pdf"], "use csv, csv-bom or xlsx"),
        (["--format", "xlsx", "--bom"], "--bom is for CSV"),
    ]:
        target = tmp_path / "bad.csv"
        with pytest.raises(CommandError, match=message):
            call_command("export_donations", *args, "-o", str(target))
        assert not target.exists()  # nothing half-written


def test_a_bad_filter_exits_non_zero(tmp_path: Path) -> None:
    """Through the real command line, as finance would run it."""
    result = subprocess.run(
        [sys.executable, "manage.py", "export_donations", "--from", "yesterday", "-o", "-"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**__import__("os").environ, "DATABASE_URL": "sqlite:///" + str(tmp_path / "x.db")},
        check=False,
    )
    assert result.returncode != 0
    assert "'yesterday' is not a date: give it as YYYY-MM-DD" in result.stderr


def test_xlsx_opens_with_openpyxl_and_stdout_works(
    books: dict[str, Any], tmp_path: Path, capsys: Any
) -> None:
    call_command("export_donations", "--format", "xlsx", "-o", str(tmp_path / "d.xlsx"))
    sheet = load_workbook(tmp_path / "d.xlsx", read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0][0] == "id" and len(rows) == 3
    header = list(rows[0])
    amounts = sorted(r[header.index("amount")] for r in rows[1:])
    assert amounts == [40, 50]  # numbers, not text
    out = io.StringIO()
    call_command("export_ledger", "-o", "-", stdout=out)
    assert out.getvalue().startswith("id,occurred (UTC)")
    assert len(_csv(out.getvalue().encode())) == LedgerEntry.objects.count()
    assert FinanceAction.objects.filter(kind="export").count() == 2


def test_xlsx_over_excels_limit_is_refused(
    books: dict[str, Any], tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(export_formats, "XLSX_MAX_ROWS", 2)
    with pytest.raises(
        CommandError, match=r"do not fit in an Excel sheet.*export as CSV, or narrow the filter"
    ):
        call_command("export_donations", "--format", "xlsx", "-o", str(tmp_path / "d.xlsx"))
    assert not (tmp_path / "d.xlsx").exists()


def test_the_payout_page_shows_its_history(books: dict[str, Any], finance_client: Client) -> None:
    payout = books["payout"]
    page = finance_client.get(f"/admin/donations/payout/{payout.pk}/change/").content.decode()
    assert "History" in page and "system via /stripe/webhook/" in page
    assert "reconciled" in page


def test_the_journal_balances_per_payout_and_splits_at_300_lines(
    books: dict[str, Any], tmp_path: Path, monkeypatch: Any
) -> None:
    from finance.services import journals as ledger_export

    payout = books["payout"]
    narration = f"Stripe payout {payout.stripe_id} (USD)"
    call_command("export_journal", "-o", str(tmp_path / "j.csv"))
    everything = _read(tmp_path / "j.csv")
    assert list(everything[0]) == ledger_export.XERO_HEADERS
    assert sum(Decimal(r["*Amount"]) for r in everything) == 0
    lines = [r for r in everything if r["*Narration"] == narration]  # the payout's journal
    assert sum(Decimal(r["*Amount"]) for r in lines) == 0
    bank = [r for r in lines if r["*AccountCode"] == "090"]
    assert [Decimal(r["*Amount"]) for r in bank] == [payout.amount.amount]
    # The rest is the month-end journal of the matched money (the pool matched both gifts).
    assert {r["*Narration"] for r in everything} - {narration} == {
        f"Matched gifts, month end {bank[0]['*Date'][6:]}-{bank[0]['*Date'][3:5]} (USD)"
    }
    call_command("export_journal", "--journal", "quickbooks", "-o", str(tmp_path / "q.csv"))
    qb = [r for r in _read(tmp_path / "q.csv") if r["Journal No"] == f"PAYOUT-{payout.pk}"]
    assert [Decimal(r["Debits"]) for r in qb if r["Account Name"] == "Business Bank Account"] == [
        payout.amount.amount
    ]
    assert sum(Decimal(r["Debits"] or 0) for r in qb) == sum(Decimal(r["Credits"] or 0) for r in qb)
    monkeypatch.setattr(ledger_export, "XERO_MAX_LINES", len(lines))
    # Two payouts' journals do not fit one file: two files, each balanced.
    second = Payout.objects.create(
        stripe_id="po_second", amount=payout.amount, status="paid", arrival_date=payout.arrival_date
    )
    for line in PayoutLine.objects.filter(payout=payout):
        PayoutLine.objects.create(
            payout=second,
            balance_transaction_id=line.balance_transaction_id,
            type=line.type,
            amount=line.amount,
            fee=line.fee,
            net=line.net,
            currency=line.currency,
            donation=line.donation,
            ledger_entry=line.ledger_entry,
        )
    call_command("export_journal", "--payout", payout.stripe_id, "-o", str(tmp_path / "one.csv"))
    assert _read(tmp_path / "one.csv") == lines  # one payout: its journal alone
    call_command("export_journal", "-o", str(tmp_path / "two.csv"))
    first, other = _read(tmp_path / "two.csv"), _read(tmp_path / "two-2.csv")
    assert len(first) == len(other) == len(lines)
    assert sum(Decimal(r["*Amount"]) for r in first) == 0
    assert sum(Decimal(r["*Amount"]) for r in other) == 0
    with pytest.raises(CommandError, match="needs 3 files"):
        call_command("export_journal", "-o", "-", stdout=io.StringIO())


def test_exports_page_answers_finance_and_refuses_an_editor(
    books: dict[str, Any], finance_client: Client, editor_client: Client
) -> None:
    url = "/admin/donations/financedesk/exports/"
    assert finance_client.get(url).status_code == 200
    assert editor_client.get(url).status_code == 403
    assert editor_client.post(url, {"kind": "donations", "format": "csv"}).status_code == 403
    response = finance_client.post(url, {"kind": "donations", "format": "csv", "currency": "EUR"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="donations.csv"'
    rows = _csv(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    assert [r["currency"] for r in rows] == ["EUR"]
    response = finance_client.post(url, {"kind": "ledger", "format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active  # type: ignore[attr-defined]
    assert len(list(sheet.iter_rows())) == LedgerEntry.objects.count() + 1  # type: ignore[union-attr]
    bad = finance_client.post(url, {"kind": "donations", "format": "csv", "project": "nope"})
    assert bad.status_code == 400
    assert "No project" in bad.content.decode()
    logged = FinanceAction.objects.filter(kind="export", actor_label="fiona")
    assert logged.count() == 2
    assert logged.order_by("id").first().detail["filters"] == {"currency": "EUR"}  # type: ignore[union-attr]


def test_a_large_export_runs_as_a_task_for_its_requester_only(
    books: dict[str, Any],
    finance_client: Client,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.EXPORT_ASYNC_ROWS = 1
    url = "/admin/donations/financedesk/exports/"
    with django_capture_on_commit_callbacks(execute=True):
        response = finance_client.post(url, {"kind": "donations", "format": "csv"})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert response["Location"] == f"/admin/donations/financedesk/exports/{job.token}/"
    assert (job.status, job.total, job.done) == ("done", 2, 2)
    page = finance_client.get(response["Location"]).content.decode()
    assert "Ready" in page and "100%" in page
    download = finance_client.get(f"{response['Location']}download/")
    assert download.status_code == 200
    assert len(_csv(b"".join(download.streaming_content))) == 2  # type: ignore[attr-defined]
    # Another Finance officer cannot fetch it; once expired, nobody can.
    from tests.finance.conftest import _login

    _other, other_client = _login("olga", "Finance")
    assert other_client.get(f"{response['Location']}download/").status_code == 404
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert finance_client.get(f"{response['Location']}download/").status_code == 410
    from finance.services.export_jobs import export_files_expire

    assert export_files_expire() == 1


def test_export_these_from_the_donations_list(
    books: dict[str, Any], finance_client: Client
) -> None:
    eur = books["eur"]
    response = finance_client.post(
        "/admin/donations/donation/",
        {"action": "export_csv", "_selected_action": [str(eur.pk)]},
    )
    assert response.status_code == 200
    rows = _csv(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    assert [r["id"] for r in rows] == [str(eur.pk)]


def test_export_these_runs_in_the_background_with_the_lists_rows(
    books: dict[str, Any],
    finance_client: Client,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.EXPORT_ASYNC_ROWS = 0
    usd = books["usd"]
    with django_capture_on_commit_callbacks(execute=True):
        response = finance_client.post(
            "/admin/donations/donation/",
            {"action": "export_xlsx", "_selected_action": [str(usd.pk)]},
        )
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert job.status == "done" and job.total == 1
    download = finance_client.get(f"/admin/donations/financedesk/exports/{job.token}/download/")
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content)), read_only=True).active  # type: ignore[attr-defined]
    rows = list(sheet.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[1][0] == str(usd.pk) and len(rows) == 2


def test_exports_read_gifts_by_index(books: dict[str, Any]) -> None:
    """The donations export's filters are served by indexes (the plan at scale is checked
    by the benchmark; here the query must use them even on a small table)."""
    from django.db import connection

    f = export_filters.filters_parse(date_from="2026-01-01", date_to="2026-01-31")
    qs = donation_export.donations_queryset(f).order_by("succeeded_at", "id")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        plan = qs.explain()
        cursor.execute("SET enable_seqscan = on")
    assert "donation_succeeded_at" in plan, plan
    assert Donation.objects.count() == 2


def test_the_journal_from_the_exports_page(
    books: dict[str, Any], finance_client: Client, monkeypatch: Any
) -> None:
    import zipfile

    from finance.services import journals as ledger_export

    url = "/admin/donations/financedesk/exports/"
    response = finance_client.post(url, {"kind": "journal", "format": "csv", "journal": "xero"})
    assert response.status_code == 200
    lines = _csv(response.content)
    assert sum(Decimal(r["*Amount"]) for r in lines) == 0
    qb = finance_client.post(url, {"kind": "journal", "format": "csv", "journal": "quickbooks"})
    bank = [r for r in _csv(qb.content) if r["Account Name"] == "Business Bank Account"]
    assert [r["Debits"] for r in bank] == [str(books["payout"].amount.amount)]
    # More than one Xero file: a ZIP of them.
    monkeypatch.setattr(ledger_export, "XERO_MAX_LINES", len(lines))
    Payout.objects.create(
        stripe_id="po_empty",
        amount=Money(0, "USD"),
        status="paid",
        arrival_date=books["payout"].arrival_date,
    )
    zipped = finance_client.post(url, {"kind": "journal", "format": "csv", "journal": "xero"})
    assert zipped["Content-Type"] == "application/zip"
    assert len(zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()) == 2


def test_the_copy_file_and_the_streamed_csv_are_the_same_rows(books: dict[str, Any]) -> None:
    """Files on PostgreSQL come from COPY of the export's SELECT; the admin streams small
    exports through the cursor: the same header, rows and values either way."""
    from finance.services.export_runner import export_spec

    for kind in ("donations", "ledger"):
        spec = export_spec(kind, export_filters.ExportFilters())
        copied = io.BytesIO()
        rows = export_formats.write_csv(spec, copied)
        streamed = b"".join(
            export_formats.csv_chunks(export_spec(kind, export_filters.ExportFilters()))
        )
        a = list(csv.reader(io.StringIO(copied.getvalue().decode())))
        b = list(csv.reader(io.StringIO(streamed.decode())))
        assert a == b and len(a) == rows + 1 and rows > 0, kind


def test_the_journal_for_a_project_is_the_payouts_that_carried_its_money_whole(
    books: dict[str, Any], make_project: Any, tmp_path: Path
) -> None:
    payout = books["payout"]
    other = make_project(slug="other-forest", title="Other forest")
    Payout.objects.create(
        stripe_id="po_elsewhere",
        amount=payout.amount,
        status="paid",
        arrival_date=payout.arrival_date,
    )

    def payouts(path: Path) -> list[dict[str, str]]:
        return [r for r in _read(path) if r["*Narration"].startswith("Stripe payout")]

    call_command("export_journal", "-o", str(tmp_path / "all.csv"))
    assert {r["*Narration"] for r in payouts(tmp_path / "all.csv")} == {
        f"Stripe payout {payout.stripe_id} (USD)",
        "Stripe payout po_elsewhere (USD)",
    }
    project = books["usd"].project
    call_command("export_journal", "--project", project.slug, "-o", str(tmp_path / "p.csv"))
    lines = payouts(tmp_path / "p.csv")
    assert {r["*Narration"] for r in lines} == {f"Stripe payout {payout.stripe_id} (USD)"}
    assert sum(Decimal(r["*Amount"]) for r in lines) == 0  # whole, so still balanced
    assert [Decimal(r["*Amount"]) for r in lines if r["*AccountCode"] == "090"] == [
        payout.amount.amount
    ]
    # The other project has no payout and no match or offline gift: nothing to journal.
    call_command("export_journal", "--project", other.slug, "-o", str(tmp_path / "none.csv"))
    assert _read(tmp_path / "none.csv") == []
