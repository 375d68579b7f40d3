"""The one export runner. The admin's Exports page and its "export these" actions, the
background export job and the commands ``export_donations``, ``export_ledger`` and
``export_journal`` all call ``export_run`` with an export's kind, format and filters; only
where the bytes go differs (a response, a file under EXPORT_ROOT, a file or stdout).

Kinds: ``donations`` (one row per gift), ``ledger`` (one row per movement) and ``journal``
(one per payout and the month-end journals: Xero's manual journal CSV in files of at most
300 lines, or QuickBooks Online's journal entry import). Formats: CSV and XLSX (``export_formats``)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import IO, Any

from django.db.models import QuerySet

from finance.models import FinanceAction
from finance.services.action_log import Actor, action_record
from finance.services.donation_export import donation_columns, donations_queryset
from finance.services.export_filters import ExportError, ExportFilters
from finance.services.export_formats import (
    FORMATS,
    ExportSpec,
    column_kinds,
    file_name,
    values_query,
    values_rows,
    write_csv,
    write_xlsx,
    xlsx_refuse_if_too_big,
)
from finance.services.journals import journal_spec
from finance.services.ledger_export import ledger_columns, ledger_queryset

KINDS = ("donations", "ledger", "journal")
SYSTEMS = ("xero", "quickbooks")

# Opens the file for one part of an export: (the part's file name, its index from 0).
FileOpener = Callable[[str, int], AbstractContextManager[IO[bytes]]]


def export_spec(
    kind: str,
    f: ExportFilters,
    *,
    queryset: QuerySet[Any] | None = None,
    system: str = "xero",
    part: int = 0,
) -> ExportSpec:
    """What to export: ``queryset`` narrows it to an admin list's rows ("export these")."""
    if kind == "donations":
        qs = donations_queryset(f) if queryset is None else queryset
        columns = donation_columns()
        stem = "donations"
        order = ["succeeded_at", "id"]
    elif kind == "ledger":
        qs = ledger_queryset(f) if queryset is None else queryset
        columns = ledger_columns()
        stem = "ledger"
        order = ["occurred_at", "id"]
    elif kind == "journal":
        return journal_spec(f, system=system, part=part)
    else:
        raise ExportError(f"Unknown export {kind!r}: one of {', '.join(KINDS)}")
    return ExportSpec(
        kind=kind,
        headers=[c.header for c in columns],
        queryset=qs,
        row_source=values_rows(qs, columns, order),
        file_stem=stem,
        count=qs.count,
        values=values_query(qs, columns, order),
        kinds=column_kinds(qs, columns),
    )


def export_parts(
    kind: str, f: ExportFilters, *, queryset: QuerySet[Any] | None = None, system: str = "xero"
) -> list[ExportSpec]:
    """Every file of an export: one, or the Xero journal's files of at most 300 lines."""
    first = export_spec(kind, f, queryset=queryset, system=system)
    return [first] + [
        export_spec(kind, f, queryset=queryset, system=system, part=n)
        for n in range(1, first.parts)
    ]


def export_check(*, kind: str, fmt: str, system: str = "xero") -> None:
    """Refuse an unknown kind, format or journal system with a message saying which."""
    if kind not in KINDS:
        raise ExportError(f"Unknown export {kind!r}: one of {', '.join(KINDS)}")
    if fmt not in FORMATS:
        raise ExportError(f"Format {fmt!r}: use csv, csv-bom (for Excel) or xlsx")
    if system not in SYSTEMS:
        raise ExportError(f"Journal {system!r}: use xero or quickbooks")
    if kind == "journal" and system == "xero" and fmt != "csv":
        raise ExportError(
            "Xero imports manual journals from CSV only: choose CSV for the Xero journal"
        )


@dataclass
class ExportResult:
    rows: int
    files: list[str] = field(default_factory=list)


def export_summary(*, kind: str, fmt: str, rows: int, files: int, system: str = "xero") -> str:
    if kind == "journal":
        return f"Exported the {system} journal: {rows} line(s) in {files} file(s)"
    return f"Exported {rows} {kind} row(s) as {fmt.upper()}"


def export_run(
    *,
    kind: str,
    fmt: str,
    filters: ExportFilters,
    open_file: FileOpener,
    actor: Actor = None,
    system: str = "xero",
    queryset: QuerySet[Any] | None = None,
    progress: Callable[[int], None] | None = None,
    detail: dict[str, Any] | None = None,
    single_file: bool = False,
) -> ExportResult:
    """Write an export's files through ``open_file`` and record it in the action log (when
    ``actor`` is given: a queued job was recorded when it was asked for). ExportError says
    what is wrong before anything is written (``single_file``: when there is only one
    place to write to, such as standard output)."""
    export_check(kind=kind, fmt=fmt, system=system)
    specs = export_parts(kind, filters, queryset=queryset, system=system)
    if single_file and len(specs) > 1:
        raise ExportError(
            f"The journal needs {len(specs)} files of at most 300 lines: give -o FILE"
        )
    counts = [spec.count() for spec in specs]
    if fmt == "xlsx":
        for count in counts:
            xlsx_refuse_if_too_big(count)
    result = ExportResult(rows=0)
    for n, (spec, count) in enumerate(zip(specs, counts, strict=True)):
        name = file_name(spec, fmt, filters)
        with open_file(name, n) as out:
            if fmt == "xlsx":
                result.rows += write_xlsx(spec, out, count=count, progress=progress)
            else:
                result.rows += write_csv(spec, out, progress=progress, bom=fmt == "csv-bom")
        result.files.append(name)
    if actor is not None:
        record = {"format": fmt, "filters": filters.as_dict(), "rows": result.rows}
        if kind == "journal":
            record["system"] = system
        action_record(
            FinanceAction.Kind.EXPORT,
            actor,
            export_summary(
                kind=kind, fmt=fmt, rows=result.rows, files=len(result.files), system=system
            ),
            target=f"export:{kind}",
            detail={**record, **(detail or {})},
        )
    return result
