"""Which export is which: the donations, the ledger and the journal, by name."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from donations.services.exports import (
    KINDS,
    ExportError,
    ExportFilters,
    ExportSpec,
    _values_rows,
    donation_columns,
    donations_queryset,
    values_query,
)
from donations.services.ledger_export import journal_spec, ledger_columns, ledger_queryset


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
        row_source=_values_rows(qs, columns, order),
        file_stem=stem,
        count=qs.count,
        values=values_query(qs, columns, order),
    )
