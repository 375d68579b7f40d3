"""The export file formats: CSV streamed in constant memory (PostgreSQL's own ``COPY`` when
writing a file), CSV with a UTF-8 byte-order mark for Excel on Windows (``csv-bom``), and
XLSX streamed with typed cells (``xlsx_stream``), from an ``ExportSpec``: the headers, each
column's kind, the row count and an iterator of rows read with a server-side cursor in
chunks. Dates are in the charity's ``TIME_ZONE``, named in the column headers. Amounts are
decimals, never floats.

Every text cell goes through ``cell_text`` (a leading ``'`` before ``=``, ``+``, ``-``,
``@``, tab or carriage return): in SQL for the exports' own SELECT (``CellText``, so COPY
writes safe cells), and again in the writers for every string, whatever the export."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.core.exceptions import FieldError
from django.db import connection, models, transaction
from django.db.models import Case, CharField, F, QuerySet, Value, When
from django.db.models.functions import Cast, TruncSecond

from donations.spreadsheet_safety import CellText, cell_safe
from finance.services.export_filters import ExportError, ExportFilters, zone_name
from finance.services.xlsx_stream import xlsx_stream

XLSX_MAX_ROWS = 1_048_576  # Excel's limit, the header row included
CHUNK = 5000
FORMATS = ("csv", "csv-bom", "xlsx")  # csv-bom: for Excel on Windows (plain csv: importers)
BOM = "\ufeff".encode()
KINDS = ("text", "money", "number", "datetime", "date")


class LocalText(Cast):
    """A timestamp as text in the charity's zone: a date and time cell in XLSX."""


def local_text(field_name: str) -> Cast:
    """A timestamp as 'YYYY-MM-DD HH:MM:SS' in the charity's zone, made by the database."""
    return LocalText(TruncSecond(field_name, tzinfo=ZoneInfo(zone_name())), CharField())


def yes_no(field_name: str) -> Case:
    return Case(When(**{field_name: True}, then=Value("yes")), default=Value("no"))


@dataclass
class Column:
    header: str
    expression: Any  # a field name or a query expression
    # A computed amount: SQLite hands those back unrounded (PostgreSQL's numeric is exact).
    money: bool = False
    # text, money, number, datetime or date; "" = from the expression's field.
    kind: str = ""
    # Neutralised in SQL (``CellText``); None = every char/text field without choices (what
    # a donor, an editor or Stripe can fill; our own choices never start with a formula).
    text: bool | None = None


@dataclass
class ExportSpec:
    kind: str
    headers: list[str]
    queryset: QuerySet[Any]
    row_source: Callable[[], Iterator[tuple[Any, ...]]]
    file_stem: str
    count: Callable[[], int] = field(default=lambda: 0)
    parts: int = 1  # the Xero journal comes in files of at most 300 lines
    # The one SELECT behind the rows (donations, ledger): files on PostgreSQL are written by
    # COPY of exactly this query.
    values: QuerySet[Any] | None = None
    # Each column's kind (KINDS) for the XLSX cells; None: from each value's type.
    kinds: list[str] | None = None

    def rows(self) -> Iterator[tuple[Any, ...]]:
        return self.row_source()


def _expression(c: Column) -> Any:
    return F(c.expression) if isinstance(c.expression, str) else c.expression


def _output_fields(qs: QuerySet[Any], columns: list[Column]) -> list[models.Field[Any, Any] | None]:
    names = [f"c{i}" for i in range(len(columns))]
    annotations = qs.annotate(
        **{n: _expression(c) for n, c in zip(names, columns, strict=True)}
    ).query.annotations
    fields: list[models.Field[Any, Any] | None] = []
    for n in names:
        try:
            fields.append(annotations[n].output_field)
        except FieldError:  # mixed types (Coalesce of a Sum and a Value): no one field
            fields.append(None)
    return fields


def _kind(c: Column, f: models.Field[Any, Any] | None) -> str:
    if c.kind:
        return c.kind
    if c.money:
        return "money"
    if isinstance(c.expression, LocalText):
        return "datetime"
    if isinstance(f, models.DecimalField):
        return "money" if f.decimal_places == 2 else "number"  # noqa: PLR2004 - cents
    if isinstance(f, models.IntegerField | models.FloatField):
        return "number"
    if isinstance(f, models.DateTimeField):
        return "datetime"
    if isinstance(f, models.DateField):
        return "date"
    return "text"


def column_kinds(qs: QuerySet[Any], columns: list[Column]) -> list[str]:
    """Each column's kind, from the column or the field behind its expression."""
    return [_kind(c, f) for c, f in zip(columns, _output_fields(qs, columns), strict=True)]


def _neutralised(c: Column, f: models.Field[Any, Any] | None) -> bool:
    if c.text is not None:
        return c.text
    if isinstance(c.expression, LocalText) or _kind(c, f) != "text":
        return False
    return isinstance(f, models.CharField | models.TextField) and not f.choices


def values_query(qs: QuerySet[Any], columns: list[Column], order: list[str]) -> QuerySet[Any]:
    """The export's one SELECT: every column computed by the database, in file order, text
    that anyone outside the desk can write neutralised (``CellText``)."""
    names = [f"c{i}" for i in range(len(columns))]
    fields = _output_fields(qs, columns)
    annotated = qs.annotate(
        **{
            n: CellText(_expression(c)) if _neutralised(c, f) else _expression(c)
            for n, c, f in zip(names, columns, fields, strict=True)
        }
    ).order_by(*order)
    return annotated.values_list(*names)


def values_rows(
    qs: QuerySet[Any], columns: list[Column], order: list[str]
) -> Callable[[], Iterator[tuple[Any, ...]]]:
    values = values_query(qs, columns, order)
    computed = [i for i, c in enumerate(columns) if c.money]

    def rows() -> Iterator[tuple[Any, ...]]:
        # Inside a transaction the server-side cursor is declared WITHOUT HOLD and streams;
        # in autocommit Django declares it WITH HOLD, which makes PostgreSQL compute and
        # store the whole result before the first row (52 s for a million gifts).
        with transaction.atomic():
            raw = values.iterator(chunk_size=CHUNK)
            if connection.vendor == "sqlite" and computed:
                raw = (_cents(row, computed) for row in raw)
            yield from raw

    return rows


def _cents(row: tuple[Any, ...], indexes: list[int]) -> tuple[Any, ...]:
    values = list(row)
    for i in indexes:
        if values[i] is not None:
            values[i] = Decimal(str(values[i])).quantize(Decimal("0.01"))
    return tuple(values)


# --- writers --------------------------------------------------------------------------------


def _batched(rows: Iterator[Any], n: int) -> Iterator[list[Any]]:
    while batch := list(islice(rows, n)):
        yield batch


def _safe_rows(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[Any]]:
    for row in rows:
        yield [cell_safe(v) for v in row]


class _Lines:
    """The csv writer's rows, each ended by "\n" as COPY ends them. Python's csv quotes a
    field holding a carriage return only when the line terminator holds one, so it writes
    "\r\n" (one write a row) and this turns that into "\n"."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, line: str) -> None:
        self.lines.append(line[:-2] + "\n")

    def take(self) -> bytes:
        text = "".join(self.lines).encode()
        self.lines = []
        return text


def csv_chunks(
    spec: ExportSpec, *, progress: Callable[[int], None] | None = None, bom: bool = False
) -> Iterator[bytes]:
    """The CSV as UTF-8 chunks of about CHUNK rows (constant memory, whatever the size);
    ``bom``: starting with a byte-order mark, which Excel needs to read UTF-8."""
    buffer = _Lines()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(spec.headers)
    yield (BOM if bom else b"") + buffer.take()
    done = 0
    for batch in _batched(_safe_rows(spec.rows()), CHUNK):
        writer.writerows(batch)
        yield buffer.take()
        done += len(batch)
        if progress:
            progress(done)


def write_csv(
    spec: ExportSpec,
    out: IO[bytes],
    *,
    progress: Callable[[int], None] | None = None,
    bom: bool = False,
) -> int:
    """Write the CSV to a file. On PostgreSQL the rows are PostgreSQL's own ``COPY`` of the
    export's SELECT, streamed into the file as it produces them (constant memory, the
    database's speed); elsewhere, and for rows that need Python, the cursor path below."""
    if spec.values is not None and connection.vendor == "postgresql" and out is not None:
        return _copy_csv(spec, out, progress, bom=bom)
    written = [0]

    def counted(done: int) -> None:
        written[0] = done
        if progress:
            progress(done)

    for chunk in csv_chunks(spec, progress=counted, bom=bom):
        out.write(chunk)
    return written[0]


class _Counting:
    """A file wrapper counting COPY's lines for progress (every CHUNK rows or so)."""

    def __init__(self, out: IO[bytes], progress: Callable[[int], None] | None) -> None:
        self.out, self.progress, self.lines, self.reported = out, progress, 0, 0

    def write(self, data: bytes | str) -> int:
        raw = data.encode() if isinstance(data, str) else data
        self.out.write(raw)
        if self.progress is not None:
            self.lines += raw.count(b"\n")
            if self.lines - self.reported >= CHUNK:
                self.reported = self.lines
                self.progress(self.lines)
        return len(raw)


def _copy_csv(
    spec: ExportSpec, out: IO[bytes], progress: Callable[[int], None] | None, *, bom: bool
) -> int:
    assert spec.values is not None
    header = _Lines()
    csv.writer(header, lineterminator="\r\n").writerow(spec.headers)
    out.write((BOM if bom else b"") + header.take())
    sql, params = spec.values.query.sql_with_params()
    sink = _Counting(out, progress)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL client_encoding TO 'UTF8'")
        query = cursor.mogrify(sql, params)
        query = query.decode() if isinstance(query, bytes) else query
        cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", sink)
        rows = int(cursor.rowcount)
    if progress:
        progress(rows)
    return rows


def xlsx_refuse_if_too_big(count: int) -> None:
    if count + 1 > XLSX_MAX_ROWS:
        raise ExportError(
            f"{count:,} rows do not fit in an Excel sheet (at most {XLSX_MAX_ROWS - 1:,} rows "
            "under the header): export as CSV, or narrow the filter"
        )


def write_xlsx(
    spec: ExportSpec,
    out: IO[bytes] | str,
    *,
    count: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """An XLSX of typed cells, streamed (``xlsx_stream``: constant memory). Refuses more rows
    than Excel can open."""
    xlsx_refuse_if_too_big(spec.count() if count is None else count)
    try:
        return xlsx_stream(
            out,
            title=spec.file_stem[:31],
            headers=spec.headers,
            rows=spec.rows(),
            kinds=spec.kinds,
            progress=progress,
            every=CHUNK,
            limit=XLSX_MAX_ROWS - 1,
        )
    except OverflowError:  # the data grew since it was counted
        raise ExportError("The data grew past Excel's row limit while exporting: use CSV") from None


def file_name(spec: ExportSpec, fmt: str, f: ExportFilters) -> str:
    parts = [spec.file_stem]
    if f.date_from:
        parts.append(f"from-{f.date_from}")
    if f.date_to:
        parts.append(f"to-{f.date_to}")
    if f.payout:
        parts.append(f.payout)
    return "-".join(parts) + (".xlsx" if fmt == "xlsx" else ".csv")
