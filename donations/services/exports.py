"""Finance exports: donations (one row per gift), the ledger (one row per movement) and the
accounting journal, as CSV streamed in constant memory or XLSX (openpyxl write-only).

One code path serves the admin (streamed, or a background task for large exports), the
management commands and the benchmark: ``export_spec(kind, filters)`` gives the headers,
the row count and an iterator of rows read with a server-side cursor (PostgreSQL) in
chunks; ``write_csv`` and ``write_xlsx`` consume it. Dates are in the charity's
``TIME_ZONE``, named in the column headers. Amounts are decimal strings, never floats.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import IO, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, TruncSecond

from donations.models import Donation, LedgerEntry, MatchAllocation, Payout
from projects.models import Project

XLSX_MAX_ROWS = 1_048_576  # Excel's limit, the header row included
CHUNK = 5000
KINDS = ("donations", "ledger", "journal")
FORMATS = ("csv", "xlsx")
S = Donation.Status
# Gifts whose money moved; attempts that never paid appear only when asked for by status.
PAID_STATUSES = (S.SUCCEEDED, S.PARTIALLY_REFUNDED, S.REFUNDED, S.DISPUTED)
GIFT_KINDS = ("gift", "offline_gift")


class ExportError(Exception):
    """A bad filter or an export that cannot be made; the message says why."""


@dataclass(frozen=True)
class ExportFilters:
    date_from: date | None = None
    date_to: date | None = None
    project_id: int | None = None
    statuses: tuple[str, ...] = ()
    payout: str = ""
    currency: str = ""
    kinds: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("date_from", "date_to"):
            data[key] = data[key].isoformat() if data[key] else None
        data["statuses"] = list(self.statuses)
        data["kinds"] = list(self.kinds)
        return {k: v for k, v in data.items() if v not in (None, "", [])}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExportFilters:
        return cls(
            date_from=date.fromisoformat(data["date_from"]) if data.get("date_from") else None,
            date_to=date.fromisoformat(data["date_to"]) if data.get("date_to") else None,
            project_id=data.get("project_id"),
            statuses=tuple(data.get("statuses") or ()),
            payout=data.get("payout") or "",
            currency=data.get("currency") or "",
            kinds=tuple(data.get("kinds") or ()),
        )


def _date(raw: str, name: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ExportError(f"{name} {raw!r} is not a date: give it as YYYY-MM-DD") from None


def _list(raw: str | Iterable[str]) -> list[str]:
    if isinstance(raw, str):
        return [p.strip() for p in raw.split(",") if p.strip()]
    return [str(p).strip() for p in raw if str(p).strip()]


def filters_parse(
    *,
    date_from: str = "",
    date_to: str = "",
    project: str = "",
    status: str | Iterable[str] = "",
    payout: str = "",
    currency: str = "",
    kind: str | Iterable[str] = "",
) -> ExportFilters:
    """Filters from text (a command line or a form); ExportError says what is wrong."""
    start, end = _date(date_from, "--from"), _date(date_to, "--to")
    if start and end and start > end:
        raise ExportError(f"--from {start} is after --to {end}")
    project_id = None
    if (project or "").strip():
        ref = project.strip()
        match = Project.objects.filter(slug=ref).values_list("pk", flat=True).first()
        if match is None and ref.isdigit():
            match = Project.objects.filter(pk=int(ref)).values_list("pk", flat=True).first()
        if match is None:
            raise ExportError(f"No project {ref!r}: give its slug or its id")
        project_id = int(match)
    statuses = _list(status)
    wrong = [s for s in statuses if s not in S.values]
    if wrong:
        raise ExportError(f"Unknown status {', '.join(wrong)}: one of {', '.join(S.values)}")
    code = (currency or "").strip().upper()
    if code and code not in settings.CURRENCIES:
        raise ExportError(f"Unknown currency {currency!r}: one of {', '.join(settings.CURRENCIES)}")
    kinds = _list(kind)
    known_kinds = ledger_kinds()
    wrong = [k for k in kinds if k not in known_kinds]
    if wrong:
        raise ExportError(
            f"Unknown ledger kind {', '.join(wrong)}: one of {', '.join(known_kinds)}"
        )
    payout_id = (payout or "").strip()
    if payout_id and not payout_exists(payout_id):
        raise ExportError(f"No payout {payout_id!r}: give its Stripe id (po_…)")
    return ExportFilters(
        date_from=start,
        date_to=end,
        project_id=project_id,
        statuses=tuple(statuses),
        payout=payout_id,
        currency=code,
        kinds=tuple(kinds),
    )


def ledger_kinds() -> list[str]:
    return list(LedgerEntry.Kind.values)


def payout_exists(stripe_id: str) -> bool:
    return bool(Payout.objects.filter(stripe_id=stripe_id).exists())


def zone_name() -> str:
    return str(settings.TIME_ZONE)


def local_bounds(f: ExportFilters) -> tuple[datetime | None, datetime | None]:
    """The paid-date range as [start, end) instants: whole days in the charity's zone."""
    zone = ZoneInfo(zone_name())
    start = datetime.combine(f.date_from, datetime.min.time(), zone) if f.date_from else None
    end = (
        datetime.combine(f.date_to + timedelta(days=1), datetime.min.time(), zone)
        if f.date_to
        else None
    )
    return start, end


def _local_text(field_name: str) -> Cast:
    """A timestamp as 'YYYY-MM-DD HH:MM:SS' in the charity's zone, made by the database."""
    return Cast(TruncSecond(field_name, tzinfo=ZoneInfo(zone_name())), CharField())


def _yes_no(field_name: str) -> Case:
    return Case(When(**{field_name: True}, then=Value("yes")), default=Value("no"))


# --- the donations export -------------------------------------------------------------------


@dataclass
class Column:
    header: str
    expression: Any  # a field name or a query expression
    # A computed amount: SQLite hands those back unrounded (PostgreSQL's numeric is exact).
    money: bool = False


def donation_columns() -> list[Column]:
    z = zone_name()
    match_sum = (
        MatchAllocation.objects.filter(donation=OuterRef("pk"))
        .values("donation")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    first_pool = (
        MatchAllocation.objects.filter(donation=OuterRef("pk"), kind=MatchAllocation.Kind.ALLOCATE)
        .order_by("id")
        .values("pool__sponsor_name")[:1]
    )
    return [
        Column("id", "id"),
        Column("payment_intent", "payment_intent_id"),
        Column("charge", "charge_id"),
        Column("balance_transaction", "balance_transaction_id"),
        *payout_columns(),
        Column(f"created ({z})", _local_text("created_at")),
        Column(f"paid ({z})", _local_text("succeeded_at")),
        Column("project", "project__slug"),
        Column("donor_name", "donor_name"),
        Column("donor_email", "donor_email"),
        Column("amount", "amount"),
        Column("currency", "amount_currency"),
        Column("charged", "charged"),
        Column("charged_currency", "charged_currency"),
        Column("settled", "settled"),
        Column("settled_currency", "settled_currency"),
        Column("exchange_rate", "exchange_rate"),
        Column("stripe_fee", "stripe_fee"),
        Column("net", "net"),
        Column("fee_covered", "fee_covered"),
        Column("refunded", "refunded"),
        Column("counted", "counted"),
        Column("project_currency", "project__cost_currency"),
        Column("match_amount", Coalesce(Subquery(match_sum), Value(Decimal(0))), money=True),
        Column("match_pool", Subquery(first_pool)),
        # What the gift moves the thermometer by: counted (donors' money) plus its match.
        Column(
            "to_thermometer",
            F("counted") + Coalesce(Subquery(match_sum), Value(Decimal(0))),
            money=True,
        ),
        Column("disputed", "dispute_status"),
        Column("status", "status"),
        Column("frequency", "frequency"),
        Column(
            "tribute",
            Case(
                When(tribute_type="", then=Value("")),
                default=Cast(F("tribute_type"), CharField()),
            ),
        ),
        Column("tribute_name", "tribute_name"),
        Column("anonymous", _yes_no("anonymous")),
        *offline_columns(),
    ]


def payout_columns() -> list[Column]:
    """The payout the gift arrived in (from the ledger, once it is known)."""
    gift_row = LedgerEntry.objects.filter(
        donation=OuterRef("pk"), kind="gift", payout__isnull=False
    ).order_by("id")
    return [
        Column("payout", Subquery(gift_row.values("payout__stripe_id")[:1])),
        Column(
            "payout_arrival",
            Subquery(gift_row.annotate(a=_local_text("payout__arrival_date")).values("a")[:1]),
        ),
    ]


def offline_columns() -> list[Column]:
    return [Column("offline_method", Value("")), Column("offline_reference", Value(""))]


def donations_queryset(f: ExportFilters) -> QuerySet[Donation]:
    qs = Donation.objects.all()
    qs = qs.filter(status__in=f.statuses or PAID_STATUSES)
    start, end = local_bounds(f)
    if start:
        qs = qs.filter(succeeded_at__gte=start)
    if end:
        qs = qs.filter(succeeded_at__lt=end)
    if f.project_id:
        qs = qs.filter(project_id=f.project_id)
    if f.currency:
        qs = qs.filter(amount_currency=f.currency)
    if f.payout:
        qs = qs.filter(
            Exists(
                LedgerEntry.objects.filter(
                    donation=OuterRef("pk"), payout__stripe_id=f.payout, kind__in=GIFT_KINDS
                )
            )
        )
    return qs


# --- the export specification ---------------------------------------------------------------


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


def _values_rows(
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
