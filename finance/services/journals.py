"""The accounting journals, in the importers' own layouts: Xero's manual journal CSV
(Xero's template columns, dd/mm/yyyy, files of at most 300 lines, never splitting a
journal; Xero imports no XLSX journal) and QuickBooks Online's journal entry import
(account names, debits and credits, the project as the class, the company's date format).

One journal per paid payout (the bank deposit): the bank line against the gross movements
per ledger kind and project and Stripe's fees; what Stripe cannot tie to a gift goes to the
suspense account. Then the month-end journals (``month_end_journal``) for matched money and
offline gifts, which no payout carries: each month the date range touches, whole. A journal
for one payout (``--payout``) is that payout's alone."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from donations.models import Payout, PayoutLine
from finance.services.export_filters import ExportError, ExportFilters, filters_apply, zone_name
from finance.services.export_formats import ExportSpec
from finance.services.journal_entry import Entry, account_code, account_name, label
from finance.services.month_end_journal import month_end_journals

# Xero's manual journal import template (an asterisk marks a column Xero requires).
XERO_HEADERS = [
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
# QuickBooks Online's journal entry import; "Currency" is added when multicurrency is on.
QUICKBOOKS_HEADERS = [
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
LINE_KINDS = {
    "charge": "gift",
    "payment": "gift",
    "refund": "refund",
    "payment_refund": "refund",
    "payment_failure_refund": "refund_failed",
    "refund_failure": "refund_failed",
    "adjustment": "dispute_withdrawal",
    "dispute": "dispute_withdrawal",
}
XERO_MAX_LINES = 300  # Xero's manual-journal import takes at most 300 lines a file
OPTION_MAX = 100  # a Xero tracking option's and a QuickBooks class's longest name


def payouts_queryset(f: ExportFilters) -> QuerySet[Payout]:
    """Paid payouts, by arrival date in the charity's zone (the date the bank shows). With a
    project: the payouts that carried any of its money, each whole, so every journal still
    balances and equals the bank deposit (its lines say their project). One payout asked
    for by its id, whatever its date: only when paid (a failed or in-transit payout is no
    bank deposit); ExportError says why not."""
    qs = Payout.objects.filter(status=Payout.Status.PAID)
    if f.payout:
        asked = Payout.objects.filter(stripe_id=f.payout).first()
        if asked is None:
            raise ExportError(f"No payout {f.payout!r}")
        if asked.status != Payout.Status.PAID:
            raise ExportError(
                f"Payout {f.payout} is {asked.get_status_display().lower()}, not paid: only a "
                "paid payout is a bank deposit to journal"
            )
        qs = qs.filter(stripe_id=f.payout)
        f = replace(f, date_from=None, date_to=None)
    qs = filters_apply(qs, f, moment="arrival_date", project=None)
    if f.project_id:
        project_lines = PayoutLine.objects.filter(
            payout_id=OuterRef("pk"), donation__project_id=f.project_id
        )
        qs = qs.filter(Exists(project_lines))
    return qs.order_by("arrival_date", "id")


def _day(payout: Payout) -> date:
    moment = payout.arrival_date or payout.created
    if moment is None:
        raise ExportError(f"Payout {payout.stripe_id} has no arrival date to journal it on")
    return moment.astimezone(ZoneInfo(zone_name())).date()


def payout_journal(payout: Payout) -> Entry:
    """The payout as one balanced journal: the bank line (debit the payout's amount), and
    per ledger kind and project the gross movements (credit money in, debit money out) and
    Stripe's fees (debit). Lines Stripe cannot tie to a gift go to the suspense account;
    a payout whose lines do not add up gets its difference there too, so it still balances
    and finance sees it."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    fees: dict[str, Decimal] = defaultdict(Decimal)
    lines = PayoutLine.objects.filter(payout=payout).values_list(
        "type", "amount", "fee", "ledger_entry__kind", "donation__project__title"
    )
    # One transaction: the server-side cursor then streams WITHOUT HOLD on one server
    # connection, as PgBouncer's transaction pooling needs (docs/operations.md).
    with transaction.atomic():
        for line_type, amount, fee, kind, project in lines.iterator(chunk_size=2000):
            k = kind if kind and kind != "fee" else LINE_KINDS.get(line_type, "other")
            if project is None:
                k = "other"
            sums[(k, project or "")] -= amount
            if fee:
                fees[project or ""] += fee
    currency = str(payout.amount.currency)
    entry = Entry(
        number=f"PAYOUT-{payout.pk}",
        narration=f"Stripe payout {payout.stripe_id} ({currency})",
        day=_day(payout),
        currency=currency,
    )
    entry.add("Stripe payout to the bank", "bank", Decimal(payout.amount.amount))
    for (kind, project), amount in sorted(sums.items()):
        if amount:
            entry.add(label(kind, project), kind, amount, project)
    for project, fee in sorted(fees.items()):
        entry.add(label("fee", project), "fee", fee, project)
    off = sum((line.amount for line in entry.lines), Decimal(0))
    if off:
        entry.add("Difference: the lines do not add up to the payout", "other", -off)
    return entry


def journal_entries(f: ExportFilters) -> list[Entry]:
    """The payouts' journals, then the month-end journals (none for one payout by id)."""
    entries = [payout_journal(p) for p in payouts_queryset(f)]
    if not f.payout:
        entries += month_end_journals(f)
    return entries


def _option(project: str) -> str:
    return project[:OPTION_MAX]


def xero_rows(entries: list[Entry]) -> Iterator[tuple[Any, ...]]:
    tax = str(settings.JOURNAL_TAX_RATE)
    tracking = str(settings.JOURNAL_TRACKING_NAME)
    for e in entries:
        day = f"{e.day:%d/%m/%Y}"
        for line in e.lines:
            yield (
                e.narration,
                day,
                line.description,
                account_code(line.kind),
                tax,
                line.amount,
                tracking if line.project else "",
                _option(line.project),
                "",
                "",
            )


def quickbooks_headers() -> list[str]:
    return QUICKBOOKS_HEADERS + (["Currency"] if settings.JOURNAL_QUICKBOOKS_MULTICURRENCY else [])


def quickbooks_rows(entries: list[Entry]) -> Iterator[tuple[Any, ...]]:
    pattern = "%m/%d/%Y" if settings.JOURNAL_QUICKBOOKS_DATE_FORMAT == "mm/dd/yyyy" else "%d/%m/%Y"
    currency = bool(settings.JOURNAL_QUICKBOOKS_MULTICURRENCY)
    for e in entries:
        day = e.day.strftime(pattern)
        for line in e.lines:
            debit = line.amount if line.amount > 0 else ""
            credit = -line.amount if line.amount < 0 else ""
            row: tuple[Any, ...] = (
                e.number,
                day,
                account_name(line.kind),
                debit,
                credit,
                line.description,
                "",
                "",
                _option(line.project),
            )
            yield (*row, e.currency) if currency else row


def xero_files(entries: list[Entry]) -> list[list[Entry]]:
    """Journals grouped into files of at most 300 lines, never splitting a journal."""
    files: list[list[Entry]] = []
    current: list[Entry] = []
    size = 0
    for e in entries:
        if len(e.lines) > XERO_MAX_LINES:
            raise ExportError(
                f"{e.narration} needs {len(e.lines)} journal lines, more than Xero's "
                f"{XERO_MAX_LINES} a file: use the QuickBooks journal, or enter it in Xero "
                "by hand in parts"
            )
        if size + len(e.lines) > XERO_MAX_LINES:
            files.append(current)
            current, size = [], 0
        current.append(e)
        size += len(e.lines)
    if current:
        files.append(current)
    return files


def journal_spec(f: ExportFilters, *, system: str = "xero", part: int = 0) -> ExportSpec:
    """One file of the journal (``part`` of the Xero files; QuickBooks is one file)."""
    entries = journal_entries(f)
    if system == "quickbooks":
        return ExportSpec(
            kind="journal",
            headers=quickbooks_headers(),
            queryset=payouts_queryset(f),
            row_source=lambda: quickbooks_rows(entries),
            file_stem="quickbooks-journal",
            count=lambda: sum(len(e.lines) for e in entries),
        )
    files = xero_files(entries) or [[]]
    chosen = files[part] if part < len(files) else []
    return ExportSpec(
        kind="journal",
        headers=XERO_HEADERS,
        queryset=payouts_queryset(f),
        row_source=lambda: xero_rows(chosen),
        file_stem="xero-journal" if len(files) == 1 else f"xero-journal-{part + 1}-of-{len(files)}",
        count=lambda: sum(len(e.lines) for e in chosen),
        parts=len(files),
    )
