"""The export file formats: CSV streamed in constant memory (PostgreSQL's own ``COPY`` when
writing a file) and XLSX through openpyxl's write-only mode, from an ``ExportSpec``: the
headers, the row count and an iterator of rows read with a server-side cursor in chunks.
Dates are in the charity's ``TIME_ZONE``, named in the column headers. Amounts are decimal
strings, never floats."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from typing import IO, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Case, CharField, F, QuerySet, Value, When
from django.db.models.functions import Cast, TruncSecond

from finance.services.export_filters import ExportError, ExportFilters, zone_name

XLSX_MAX_ROWS = 1_048_576  # Excel's limit, the header row included
CHUNK = 5000
FORMATS = ("csv", "xlsx")


def local_text(field_name: str) -> Cast:
    """A timestamp as 'YYYY-MM-DD HH:MM:SS' in the charity's zone, made by the database."""
    return Cast(TruncSecond(field_name, tzinfo=ZoneInfo(zone_name())), CharField())


def yes_no(field_name: str) -> Case:
    return Case(When(**{field_name: True}, then=Value("yes")), default=Value("no"))


@dataclass
class Column:
    header: str
    expression: Any  # a field name or a query expression
    # A computed amount: SQLite hands those back unrounded (PostgreSQL's numeric is exact).
    money: bool = False


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

    def rows(self) -> Iterator[tuple[Any, ...]]:
        return self.row_source()


def values_query(qs: QuerySet[Any], columns: list[Column], order: list[str]) -> QuerySet[Any]:
    """The export's one SELECT: every column computed by the database, in file order."""
    names = [f"c{i}" for i in range(len(columns))]
    annotated = qs.annotate(
        **{
            n: (c.expression if not isinstance(c.expression, str) else F(c.expression))
            for n, c in zip(names, columns, strict=True)
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


def _batched(rows: Iterator[tuple[Any, ...]], n: int) -> Iterator[list[tuple[Any, ...]]]:
    while batch := list(islice(rows, n)):
        yield batch


def csv_chunks(
    spec: ExportSpec, *, progress: Callable[[int], None] | None = None
) -> Iterator[bytes]:
    """The CSV as UTF-8 chunks of about CHUNK rows (constant memory, whatever the size)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")  # as COPY writes it
    writer.writerow(spec.headers)
    yield buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    done = 0
    for batch in _batched(spec.rows(), CHUNK):
        writer.writerows(batch)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        done += len(batch)
        if progress:
            progress(done)


def write_csv(
    spec: ExportSpec, out: IO[bytes], *, progress: Callable[[int], None] | None = None
) -> int:
    """Write the CSV to a file. On PostgreSQL the rows are PostgreSQL's own ``COPY`` of the
    export's SELECT, streamed into the file as it produces them (constant memory, the
    database's speed); elsewhere, and for rows that need Python, the cursor path below."""
    if spec.values is not None and connection.vendor == "postgresql" and out is not None:
        return _copy_csv(spec, out, progress)
    written = [0]

    def counted(done: int) -> None:
        written[0] = done
        if progress:
            progress(done)

    for chunk in csv_chunks(spec, progress=counted):
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


def _copy_csv(spec: ExportSpec, out: IO[bytes], progress: Callable[[int], None] | None) -> int:
    assert spec.values is not None
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(spec.headers)
    out.write(buffer.getvalue().encode())
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
    """An XLSX through openpyxl's write-only mode (rows go to a temporary file, not memory).
    Refuses more rows than Excel can open."""
    from openpyxl import Workbook

    xlsx_refuse_if_too_big(spec.count() if count is None else count)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=spec.file_stem[:31])
    sheet.append(spec.headers)
    done = 0
    for row in spec.rows():
        sheet.append([str(v) if isinstance(v, UUID) else v for v in row])
        done += 1
        if done > XLSX_MAX_ROWS - 1:  # the data grew since it was counted
            raise ExportError("The data grew past Excel's row limit while exporting: use CSV")
        if progress and done % CHUNK == 0:
            progress(done)
    workbook.save(out)
    if progress:
        progress(done)
    return done


def file_name(spec: ExportSpec, fmt: str, f: ExportFilters) -> str:
    parts = [spec.file_stem]
    if f.date_from:
        parts.append(f"from-{f.date_from}")
    if f.date_to:
        parts.append(f"to-{f.date_to}")
    if f.payout:
        parts.append(f.payout)
    return "-".join(parts) + f".{fmt}"
