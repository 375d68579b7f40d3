"""The accounting journals, one per payout (the bank deposit): Xero's manual journal CSV
(files of at most 300 lines, never splitting a journal) and QuickBooks Online's bank file.
Each journal balances: the bank line against the gross movements per ledger kind and
project and Stripe's fees; what Stripe cannot tie to a gift goes to the suspense account."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet

from donations.models import Payout, PayoutLine
from finance.services.export_filters import ExportError, ExportFilters, filters_apply, zone_name
from finance.services.export_formats import ExportSpec

XERO_HEADERS = [
    "Narration",
    "Date",
    "Description",
    "AccountCode",
    "TaxRate",
    "Amount",
    "TrackingName1",
    "TrackingOption1",
]
QUICKBOOKS_HEADERS = ["Date", "Description", "Amount"]
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


def _account(kind: str) -> str:
    accounts = settings.JOURNAL_ACCOUNTS
    return str(accounts.get(kind) or accounts["other"])


def payouts_queryset(f: ExportFilters) -> QuerySet[Payout]:
    """Paid payouts, by arrival date in the charity's zone (the date the bank shows). With a
    project: the payouts that carried any of its money, each whole, so every journal still
    balances and equals the bank deposit (its lines say their project)."""
    qs = Payout.objects.filter(status=Payout.Status.PAID)
    if f.payout:
        # One payout asked for by its id: whatever its date or status.
        qs = Payout.objects.filter(stripe_id=f.payout)
        f = replace(f, date_from=None, date_to=None)
    qs = filters_apply(qs, f, moment="arrival_date", project=None)
    if f.project_id:
        project_lines = PayoutLine.objects.filter(
            payout_id=OuterRef("pk"), donation__project_id=f.project_id
        )
        qs = qs.filter(Exists(project_lines))
    return qs.order_by("arrival_date", "id")


XERO_MAX_LINES = 300  # Xero's manual-journal import takes at most 300 lines a file


@dataclass
class Journal:
    payout: Payout
    lines: list[tuple[str, str, Decimal, str]]  # description, account, amount, project

    @property
    def balanced(self) -> bool:
        return sum((line[2] for line in self.lines), Decimal(0)) == 0


def payout_journal(payout: Payout) -> Journal:
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
    for line_type, amount, fee, kind, project in lines.iterator(chunk_size=2000):
        k = kind if kind and kind != "fee" else LINE_KINDS.get(line_type, "other")
        if project is None:
            k = "other"
        sums[(k, project or "")] -= amount
        if fee:
            fees[project or ""] += fee
    journal: list[tuple[str, str, Decimal, str]] = [
        (f"Stripe payout {payout.stripe_id}", _account("bank"), Decimal(payout.amount.amount), "")
    ]
    for (kind, project), amount in sorted(sums.items()):
        if amount:
            journal.append((f"{kind.replace('_', ' ')}", _account(kind), amount, project))
    for project, fee in sorted(fees.items()):
        journal.append(("Stripe fees", _account("fee"), fee, project))
    off = sum((line[2] for line in journal), Decimal(0))
    if off:
        journal.append(
            ("Difference: lines do not add up to the payout", _account("other"), -off, "")
        )
    return Journal(payout=payout, lines=journal)


def _date(payout: Payout) -> str:
    moment = payout.arrival_date or payout.created
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone_name())).date().isoformat()


def xero_rows(journals: list[Journal]) -> Iterator[tuple[Any, ...]]:
    tax = str(settings.JOURNAL_TAX_RATE)
    for j in journals:
        narration = f"Stripe payout {j.payout.stripe_id} ({j.payout.currency})"
        for description, account, amount, project in j.lines:
            yield (
                narration,
                _date(j.payout),
                description,
                account,
                tax,
                amount,
                "Project" if project else "",
                project,
            )


def quickbooks_rows(journals: list[Journal]) -> Iterator[tuple[Any, ...]]:
    for j in journals:
        yield (
            _date(j.payout),
            f"Stripe payout {j.payout.stripe_id}",
            Decimal(j.payout.amount.amount),
        )


def xero_files(journals: list[Journal]) -> list[list[Journal]]:
    """Journals grouped into files of at most 300 lines, never splitting a journal."""
    files: list[list[Journal]] = []
    current: list[Journal] = []
    size = 0
    for j in journals:
        if len(j.lines) > XERO_MAX_LINES:
            raise ExportError(
                f"Payout {j.payout.stripe_id} needs {len(j.lines)} journal lines, more than "
                f"Xero's {XERO_MAX_LINES} a file: use the QuickBooks bank CSV, or enter it in Xero "
                "by hand in parts"
            )
        if size + len(j.lines) > XERO_MAX_LINES:
            files.append(current)
            current, size = [], 0
        current.append(j)
        size += len(j.lines)
    if current:
        files.append(current)
    return files


def journal_spec(f: ExportFilters, *, system: str = "xero", part: int = 0) -> ExportSpec:
    """One file of the journal (``part`` of the Xero files; QuickBooks is one file)."""
    journals = [payout_journal(p) for p in payouts_queryset(f)]
    if system == "quickbooks":
        return ExportSpec(
            kind="journal",
            headers=QUICKBOOKS_HEADERS,
            queryset=payouts_queryset(f),
            row_source=lambda: quickbooks_rows(journals),
            file_stem="quickbooks-bank",
            count=lambda: len(journals),
        )
    files = xero_files(journals) or [[]]
    chosen = files[part] if part < len(files) else []
    return ExportSpec(
        kind="journal",
        headers=XERO_HEADERS,
        queryset=payouts_queryset(f),
        row_source=lambda: xero_rows(chosen),
        file_stem="xero-journal" if len(files) == 1 else f"xero-journal-{part + 1}-of-{len(files)}",
        count=lambda: sum(len(j.lines) for j in chosen),
        parts=len(files),
    )
