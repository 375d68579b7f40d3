"""The finance dashboard's figures, read from the ledger (so they are the exports' sums):
per project and month, gross, fees, net, matched, refunds, disputes and offline gifts;
payouts by status; unlinked payout lines and flagged payouts; and a server-drawn chart.

Money columns are in the settlement currency (the ledger's ``settled``), except matched,
which is in the project's currency (a sponsor's match moves no Stripe money). Months are
calendar months in the charity's ``TIME_ZONE``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth

from donations.models import LedgerEntry, Payout, PayoutLine
from projects.models import Project

K = LedgerEntry.Kind
CENT = Decimal("0.01")
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    # name: (ledger field, kinds)
    "gross": ("settled", (K.GIFT,)),
    "fees": ("settled", (K.FEE, K.DISPUTE_FEE)),
    "refunds": ("settled", (K.REFUND, K.REFUND_FAILED)),
    "disputes": ("settled", (K.DISPUTE_WITHDRAWAL, K.DISPUTE_REINSTATEMENT)),
    "offline": ("settled", (K.OFFLINE_GIFT, K.OFFLINE_VOID)),
    "net": ("settled", tuple(k for k in K.values if k not in LedgerEntry.MATCH_KINDS)),
    "matched": ("project_amount", tuple(LedgerEntry.MATCH_KINDS)),
}


@dataclass
class MonthRow:
    project: str
    month: date
    figures: dict[str, Decimal]


@dataclass
class Dashboard:
    currency: str
    start: datetime | None
    end: datetime | None
    rows: list[MonthRow] = field(default_factory=list)
    totals: dict[str, Decimal] = field(default_factory=dict)
    payouts: list[dict[str, Any]] = field(default_factory=list)
    unlinked_lines: int = 0
    flagged_payouts: list[Payout] = field(default_factory=list)
    chart: dict[str, Any] = field(default_factory=dict)


def dashboard_build(
    *, start: datetime | None = None, end: datetime | None = None, project_id: int | None = None
) -> Dashboard:
    zone = ZoneInfo(str(settings.TIME_ZONE))
    qs = LedgerEntry.objects.all()
    if start:
        qs = qs.filter(occurred_at__gte=start)
    if end:
        qs = qs.filter(occurred_at__lt=end)
    if project_id:
        qs = qs.filter(project_id=project_id)
    sums = {
        name: Sum(column, filter=Q(kind__in=kinds), default=Decimal(0))
        for name, (column, kinds) in COLUMNS.items()
    }
    grouped = (
        qs.annotate(month=TruncMonth("occurred_at", tzinfo=zone))
        .values("project_id", "month")
        .annotate(**sums)
        .order_by("month", "project_id")
    )
    titles = dict(Project.objects.values_list("pk", "title"))
    board = Dashboard(currency=str(settings.DONATION_SETTLEMENT_CURRENCY), start=start, end=end)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for found in grouped:
        row: dict[str, Any] = dict(found)
        month = row["month"]
        # Stored with 2 places; SQLite's sums come back as floats, so round them back.
        figures = {name: _cents(row[name]) for name in COLUMNS}
        for name, value in figures.items():
            totals[name] += value
        board.rows.append(
            MonthRow(
                project=titles.get(row["project_id"], str(row["project_id"])),
                month=month.date() if isinstance(month, datetime) else month,
                figures=figures,
            )
        )
    board.totals = {name: totals[name] for name in COLUMNS}
    # Payouts by the day the bank shows them (arrival, else Stripe's creation time), in the
    # same range as the rest of the page; not per project (a payout carries many).
    payouts = Payout.objects.alias(moment=Coalesce("arrival_date", "created"))
    if start:
        payouts = payouts.filter(moment__gte=start)
    if end:
        payouts = payouts.filter(moment__lt=end)
    board.payouts = [
        dict(p)
        for p in payouts.values("status", "amount_currency")
        .annotate(count=Count("id"), total=Sum("amount"))
        .order_by("status", "amount_currency")
    ]
    for p in board.payouts:
        p["total"] = _cents(p["total"])
    board.unlinked_lines = PayoutLine.objects.filter(donation__isnull=True).count()
    board.flagged_payouts = list(
        Payout.objects.filter(lines_status=Payout.Lines.MISMATCH).order_by("-created")[:20]
    )
    board.chart = chart(board.rows)
    return board


PAYOUT_COLUMNS = ("gross", "fees", "refunds", "disputes", "offline", "net")


def payout_summary(payout: Payout) -> list[dict[str, Any]]:
    """What a payout carried, per project: the ledger rows tied to it (by the payout's
    lines), summed as the dashboard's columns, in the settlement currency; a last row of
    totals. Rows with no project (Stripe's own fees, adjustments) are "No project"."""
    sums = {
        name: Sum(COLUMNS[name][0], filter=Q(kind__in=COLUMNS[name][1]), default=Decimal(0))
        for name in PAYOUT_COLUMNS
    }
    grouped = (
        LedgerEntry.objects.filter(payout=payout)
        .values("project__title")
        .annotate(**sums)
        .order_by("project__title")
    )
    rows: list[dict[str, Any]] = []
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for found in grouped:
        row: dict[str, Any] = dict(found)
        figures = {name: _cents(row[name]) for name in PAYOUT_COLUMNS}
        for name, value in figures.items():
            totals[name] += value
        rows.append({"project": row["project__title"] or "No project", "figures": figures})
    if rows:
        rows.append({"project": "Total", "figures": {n: totals[n] for n in PAYOUT_COLUMNS}})
    return rows


def _cents(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def chart(rows: list[MonthRow], *, width: int = 720, height: int = 220) -> dict[str, Any]:
    """Bars per month (all projects): gross and net side by side, for an inline SVG."""
    by_month: dict[date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        for name in ("gross", "net", "matched"):
            by_month[row.month][name] += row.figures[name]
    months = sorted(by_month)
    if not months:
        return {"bars": [], "labels": [], "width": width, "height": height, "top": "0"}
    top = max(max(v["gross"], v["net"], v["matched"]) for v in by_month.values()) or Decimal(1)
    plot = height - 30
    slot = width / len(months)
    bar = max(slot / 4, 2)
    bars, labels = [], []
    for i, month in enumerate(months):
        x0 = i * slot + slot / 8
        for j, name in enumerate(("gross", "net", "matched")):
            value = max(by_month[month][name], Decimal(0))
            h = float(value / top) * plot
            bars.append(
                {
                    "x": round(x0 + j * bar, 1),
                    "y": round(plot - h, 1),
                    "w": round(bar - 1, 1),
                    "h": round(h, 1),
                    "kind": name,
                    "title": f"{month:%b %Y} {name}: {value:,.2f}",
                }
            )
        labels.append(
            {"x": round(i * slot + slot / 2, 1), "y": height - 10, "text": f"{month:%b %y}"}
        )
    return {"bars": bars, "labels": labels, "width": width, "height": height, "top": f"{top:,.0f}"}
