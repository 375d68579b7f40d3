"""Cells that cannot run (OWASP's CSV injection): text anyone outside the desk wrote is
text in every CSV and XLSX, through COPY and through Python alike; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from djmoney.money import Money
from openpyxl import load_workbook

from donations.models import Donation, LedgerEntry
from donations.services import donor_gifts, statements
from donations.spreadsheet_safety import FORMULA_STARTS, CellText, cell_text
from finance.services import export_filters, export_formats
from finance.services.export_runner import export_spec
from finance.services.offline_gifts import OfflineGiftInput, offline_gift_record
from projects.models import Project
from tests.factories import StaffFactory

NAMES = ['=HYPERLINK("http://x","y")', "+cmd", "@SUM(1)", "-1+1", "\tTabbed", "\rReturn"]


def _ledger_update(qs: Any, **values: Any) -> None:
    """The ledger is append-only (a trigger): a test writes a hostile note past it."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            qs.update(**values)
        finally:
            cursor.execute("SET session_replication_role = origin")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def hostile(project: Project, pay: Any) -> list[Donation]:
    gifts = [pay(project, "20", email=f"d{i}@example.org", name=n) for i, n in enumerate(NAMES)]
    Donation.objects.filter(pk=gifts[0].pk).update(
        tribute_type="honour", tribute_name="=cmd|' /C calc'!A0"
    )
    _ledger_update(LedgerEntry.objects.filter(donation=gifts[1]), note="@SUM(A1:A9)")
    return gifts


def test_the_rule_in_python_and_in_sql_agree(project: Project) -> None:
    from django.db.models import Value

    for v in [*NAMES, "Ana", "", "'=already", "María", "x=1", "50.00", "-"]:
        expected = "'" + v if v[:1] in FORMULA_STARTS and v else v
        assert cell_text(v) == expected
        in_sql = Project.objects.annotate(c=CellText(Value(v))).values_list("c", flat=True)
        assert list(in_sql) == [expected], repr(v)


def test_formula_names_export_as_text_in_csv_by_copy_and_by_python(
    hostile: list[Donation], tmp_path: Path
) -> None:
    call_command("export_donations", "-o", str(tmp_path / "d.csv"))  # COPY on PostgreSQL
    rows = _rows(tmp_path / "d.csv")
    assert sorted(r["donor_name"] for r in rows) == sorted("'" + n for n in NAMES)
    tribute = next(r for r in rows if r["tribute_name"])
    assert tribute["tribute_name"] == "'=cmd|' /C calc'!A0"
    # The Python path (the admin's stream) writes the same cells. (The bytes differ only where
    # COPY writes an empty text as "" to tell it from NULL.)
    spec = export_spec("donations", export_filters.ExportFilters())
    copied = io.BytesIO()
    export_formats.write_csv(spec, copied)
    streamed = b"".join(export_formats.csv_chunks(spec))
    assert list(csv.reader(io.StringIO(copied.getvalue().decode()))) == list(
        csv.reader(io.StringIO(streamed.decode()))
    )
    # The ledger too (its columns are another module's: neutralised by the writer itself).
    call_command("export_ledger", "-o", str(tmp_path / "l.csv"))
    ledger = _rows(tmp_path / "l.csv")
    assert "'@SUM(A1:A9)" in {r["note"] for r in ledger}


def test_negative_amounts_stay_numbers(hostile: list[Donation], tmp_path: Path) -> None:
    _ledger_update(
        LedgerEntry.objects.filter(donation=hostile[2], kind="gift"), amount=Decimal("-5.00")
    )
    call_command("export_ledger", "-o", str(tmp_path / "l.csv"))
    amounts = {r["amount"] for r in _rows(tmp_path / "l.csv")}
    assert "-5.00" in amounts and not any(a.startswith("'") for a in amounts)
    call_command("export_ledger", "--format", "xlsx", "-o", str(tmp_path / "l.xlsx"))
    sheet = load_workbook(tmp_path / "l.xlsx").active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    col = header.index("amount") + 1
    cells = [sheet.cell(row=r, column=col) for r in range(2, sheet.max_row + 1)]
    assert all(c.data_type == "n" for c in cells)
    assert Decimal("-5") in {Decimal(str(c.value)) for c in cells}


def test_xlsx_cells_are_typed_strings_dates_and_money(
    hostile: list[Donation], tmp_path: Path
) -> None:
    call_command("export_donations", "--format", "xlsx", "-o", str(tmp_path / "d.xlsx"))
    sheet = load_workbook(tmp_path / "d.xlsx").active
    assert sheet is not None
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    col = {h: i + 1 for i, h in enumerate(header)}
    names = [sheet.cell(row=r, column=col["donor_name"]) for r in range(2, sheet.max_row + 1)]
    assert all(c.data_type == "s" and str(c.value).startswith("'") for c in names)
    assert sorted(str(c.value) for c in names) == sorted("'" + n for n in NAMES)
    # No formula anywhere.
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    paid = sheet.cell(row=2, column=col["paid (UTC)"])
    assert paid.is_date and abs(paid.value - timezone.now().replace(tzinfo=None)) < timedelta(
        hours=1
    )
    assert sheet.cell(row=2, column=col["payout_arrival"]).value is None  # no payout yet
    for name in ("amount", "stripe_fee", "net", "match_amount", "to_thermometer"):
        cell = sheet.cell(row=2, column=col[name])
        assert cell.data_type == "n" and cell.number_format == "0.00", name
    assert sheet.cell(row=2, column=col["amount"]).value == 20
    assert sheet.column_dimensions["A"].width >= 36  # a UUID fits
    assert sheet.cell(row=1, column=1).font.b  # the header is bold


def test_the_byte_order_mark_is_an_option_and_plain_csv_has_none(
    hostile: list[Donation],
    tmp_path: Path,
    finance_client: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    call_command("export_donations", "-o", str(tmp_path / "plain.csv"))
    call_command("export_donations", "--bom", "-o", str(tmp_path / "bom.csv"))
    call_command("export_donations", "--format", "csv-bom", "-o", str(tmp_path / "bom2.csv"))
    plain = (tmp_path / "plain.csv").read_bytes()
    assert not plain.startswith(b"\xef\xbb\xbf") and plain.startswith(b"id,")
    for name in ("bom.csv", "bom2.csv"):
        text = (tmp_path / name).read_bytes().decode("utf-8")
        assert text.startswith("\ufeffid,") and text[1:] == plain.decode()
    url = "/admin/donations/financedesk/exports/"
    response = finance_client.post(url, {"kind": "donations", "format": "csv-bom"})
    assert response["Content-Disposition"] == 'attachment; filename="donations.csv"'
    assert b"".join(response.streaming_content).decode().startswith("\ufeffid,")
    response = finance_client.post(url, {"kind": "ledger", "format": "csv"})
    assert not b"".join(response.streaming_content).startswith(b"\xef\xbb\xbf")
    settings.EXPORT_ASYNC_ROWS = 0  # the background job, through the same runner
    with django_capture_on_commit_callbacks(execute=True):
        queued = finance_client.post(url, {"kind": "donations", "format": "csv-bom"})
    download = finance_client.get(f"{queued['Location']}download/")
    assert b"".join(download.streaming_content).startswith("\ufeffid,".encode())


def test_offline_method_and_reference_are_filled(
    project: Project, tmp_path: Path, pay: Any
) -> None:
    pay(project, "20")
    offline_gift_record(
        gift=OfflineGiftInput(
            project=project,
            amount=Decimal("75"),
            currency=project.currency,
            donor_name="Carla",
            donor_email="carla@example.org",
            method="cheque",
            reference="=1+2 #004512",
            received_on=timezone.localdate(),
        ),
        actor=StaffFactory.create(username="officer"),
    )
    call_command("export_donations", "-o", str(tmp_path / "d.csv"))
    rows = {r["donor_name"]: r for r in _rows(tmp_path / "d.csv")}
    assert rows["Carla"]["offline_method"] == "cheque"
    assert rows["Carla"]["offline_reference"] == "'=1+2 #004512"
    assert rows["Ana Quispe"]["offline_method"] == rows["Ana Quispe"]["offline_reference"] == ""


def test_a_project_title_is_text_in_the_journal_and_the_donors_statement(
    make_project: Any, pay: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    from donations.providers import provider

    project = make_project(title='=HYPERLINK("http://x","y")', cost=Money(10_000, "USD"))
    gift = pay(project, "30")
    with django_capture_on_commit_callbacks(execute=True):
        provider().payout_available(host="testserver")  # type: ignore[attr-defined]
    call_command("export_journal", "-o", str(tmp_path / "j.csv"))
    cells = [c for row in csv.reader((tmp_path / "j.csv").open()) for c in row]
    # The tracking cell is the title itself, neutralised; descriptions that merely contain
    # it ("Gifts, =HYPERLINK...") start with a letter and cannot run.
    assert "'" + project.title in cells
    assert not any(c.startswith(FORMULA_STARTS) and c[:1] != "-" for c in cells)
    assert gift.succeeded_at is not None
    year = statements.financial_year_of(gift.succeeded_at)
    statement = statements.statement_build(donor_email=gift.donor_email, year=year)
    lines = list(csv.reader(io.StringIO(donor_gifts.statement_csv(statement, "en"))))
    assert lines[1][1] == "'" + project.title
    assert lines[1][3] == "30.00"  # the amount as it was


def test_the_xlsx_writer_keeps_every_value_as_written(tmp_path: Path, settings: Any) -> None:
    """Values no export has yet, each read back by openpyxl as the cell it should be."""
    import uuid
    import zipfile
    from datetime import UTC, date, datetime

    from finance.services.xlsx_stream import EXCEL_TEXT_MAX, xlsx_stream

    settings.TIME_ZONE = "UTC"
    key = uuid.uuid4()
    rows = [
        ("a & b <c>", " padded ", "line\r\nbreak", "bell\x07", Decimal("-12.50"), 3, 1.5),
        (
            key,
            None,
            True,
            date(2026, 3, 1),
            datetime(2026, 3, 1, 13, 30, tzinfo=UTC),
            "x" * 40_000,
            0,
        ),
    ]
    path = tmp_path / "t.xlsx"
    written = xlsx_stream(
        str(path), title="t", headers=["a", "b", "c", "d", "e", "f", "g"], rows=iter(rows)
    )
    assert written == 2 and zipfile.ZipFile(path).testzip() is None
    sheet = load_workbook(path).active
    assert sheet is not None
    first = [c.value for c in sheet[2]]
    assert first[:4] == ["a & b <c>", " padded ", "line\r\nbreak", "bell"]
    assert first[4:] == [-12.5, 3, 1.5] and sheet["E2"].number_format == "0.00"
    second = list(sheet[3])
    assert second[0].value == str(key) and second[1].value is None and second[2].value is True
    assert second[3].is_date and second[3].value == datetime(2026, 3, 1)  # noqa: DTZ001 - as read
    assert second[4].is_date and second[4].value == datetime(2026, 3, 1, 13, 30)  # noqa: DTZ001
    assert len(second[5].value) == EXCEL_TEXT_MAX
