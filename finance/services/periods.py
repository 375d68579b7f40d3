"""Finance closes and reopens accounting months (the desk's Periods page). The rule that
keeps a closed month closed is the ledger's: donations/services/periods.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone

from donations.models import LedgerEntry, PeriodClose
from donations.services.periods import month_after, month_lock, month_of, month_start
from finance.models import FinanceAction
from finance.services.action_log import Actor, action_record

MONTHS_LISTED = 24


class PeriodRefused(Exception):
    """The month cannot be closed or reopened; the message says why."""


def _label(actor: Actor) -> tuple[int | None, str]:
    pk = getattr(actor, "pk", None)
    if pk is not None:
        return pk, actor.get_username()  # type: ignore[union-attr]
    return None, actor if isinstance(actor, str) and actor else "system"


def period_close(*, month: date, actor: Actor) -> PeriodClose:
    """Close a month that is over. Waits for ledger writes already dating rows in it."""
    month = month.replace(day=1)
    if month >= month_of(timezone.now()):
        raise PeriodRefused(f"{month:%B %Y} is not over yet: only a past month can be closed")
    with transaction.atomic():
        # Exclusive: writers hold this month's lock shared while they date rows in it.
        month_lock(month, shared=False)
        if PeriodClose.objects.filter(month=month, reopened_at__isnull=True).exists():
            raise PeriodRefused(f"{month:%B %Y} is already closed")
        user_id, label = _label(actor)
        closed = PeriodClose.objects.create(
            month=month, closed_at=timezone.now(), closed_by_id=user_id, closed_by_label=label
        )
        action_record(
            FinanceAction.Kind.PERIOD_CLOSE,
            actor,
            f"{month:%B %Y} closed",
            target=f"period:{month:%Y-%m}",
            detail={"month": month.isoformat()},
        )
    return closed


def period_reopen(*, month: date, reason: str, actor: Actor) -> PeriodClose:
    """Reopen a closed month, with the reason (recorded on its close and in the log)."""
    month = month.replace(day=1)
    reason = reason.strip()
    if not reason:
        raise PeriodRefused("Say why the month is reopened")
    with transaction.atomic():
        month_lock(month, shared=False)
        closed = (
            PeriodClose.objects.select_for_update()
            .filter(month=month, reopened_at__isnull=True)
            .first()
        )
        if closed is None:
            raise PeriodRefused(f"{month:%B %Y} is not closed")
        user_id, label = _label(actor)
        closed.reopened_at = timezone.now()
        closed.reopened_by_id = user_id
        closed.reopened_by_label = label
        closed.reopen_reason = reason[:300]
        closed.save(
            update_fields=["reopened_at", "reopened_by", "reopened_by_label", "reopen_reason"]
        )
        action_record(
            FinanceAction.Kind.PERIOD_REOPEN,
            actor,
            f"{month:%B %Y} reopened: {reason}",
            target=f"period:{month:%Y-%m}",
            detail={"month": month.isoformat(), "reason": reason},
        )
    return closed


@dataclass(frozen=True)
class MonthRow:
    month: date
    closed: PeriodClose | None  # the close in force
    history: list[PeriodClose]
    over: bool
    late_rows: int  # rows dated into this month from a closed month before it


def periods_listing(*, months: int = MONTHS_LISTED) -> list[MonthRow]:
    """The latest months, newest first, each with its close in force and its history."""
    current = month_of(timezone.now())
    first_row = LedgerEntry.objects.aggregate(first=Min("occurred_at"))["first"]
    start = month_of(first_row) if first_row else current
    wanted: list[date] = []
    month = current
    while len(wanted) < months:
        wanted.append(month)
        if month <= start:
            break
        month = date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)
    closes: dict[date, list[PeriodClose]] = {}
    for row in PeriodClose.objects.filter(month__in=wanted).order_by("-closed_at"):
        closes.setdefault(row.month, []).append(row)
    moved = dict(
        LedgerEntry.objects.filter(
            original_occurred_at__isnull=False, occurred_at__gte=month_start(wanted[-1])
        )
        .values_list("occurred_at")
        .annotate(n=Count("id"))
        .values_list("occurred_at", "n")
    )
    late: dict[date, int] = {}
    for moment, n in moved.items():
        late[month_of(moment)] = late.get(month_of(moment), 0) + n
    return [
        MonthRow(
            month=m,
            closed=next((c for c in closes.get(m, []) if c.reopened_at is None), None),
            history=closes.get(m, []),
            over=month_after(m) <= current,
            late_rows=late.get(m, 0),
        )
        for m in wanted
    ]
