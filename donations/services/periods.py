"""Closed months: the one rule that dates a ledger row, and what the close must wait for.

A month is the accounting period, its boundaries midnight in the charity's ``TIME_ZONE``
(like the financial year's). Once finance has closed a month (finance/services/periods.py),
a movement whose moment falls inside it (a late refund, a lost dispute, a match reversal,
an offline gift received then) is dated at the start of the first open month after it;
the row keeps its real moment in ``original_occurred_at``.

The race: a writer reads "March is open", finance closes March, the writer commits a row
dated in March: the closed month has changed after all. So every ledger write holds a shared
advisory lock on the month it dates the row in (taken before it reads whether the month is
closed, held to commit), and a close takes the same lock exclusively: the close waits for
writers already dating rows in that month to commit, and writers that come after it see the
month closed. Locks are per month, so closing last month never waits for today's gifts.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from donations.locks import advisory_xact_lock
from donations.models import LedgerEntry, PeriodClose


def _zone() -> ZoneInfo:
    return ZoneInfo(str(settings.TIME_ZONE))


def month_of(moment: datetime) -> date:
    """The first day of the month the moment falls in, in the charity's time zone."""
    return moment.astimezone(_zone()).date().replace(day=1)


def month_after(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=_zone())


def month_lock(month: date, *, shared: bool) -> None:
    advisory_xact_lock("ledger-period", month.isoformat(), shared=shared)


def month_closed(month: date) -> bool:
    return PeriodClose.objects.filter(month=month, reopened_at__isnull=True).exists()


def ledger_date(moment: datetime) -> datetime:
    """When a ledger row for a movement at ``moment`` is dated: the moment itself, unless its
    month is closed; then the start of the first open month after it (the current month is
    never closed, so there always is one). Must run in the transaction that writes the row:
    it holds each month's shared lock to commit (see the module's note on the race)."""
    month = month_of(moment)
    dated = moment
    while True:
        month_lock(month, shared=True)
        if not month_closed(month):
            return dated
        month = month_after(month)
        dated = month_start(month)


def ledger_row_date(row: LedgerEntry) -> LedgerEntry:
    """Date an unsaved row by ``ledger_date``, keeping its real moment when it moves."""
    moment = row.occurred_at or timezone.now()
    dated = ledger_date(moment)
    row.occurred_at = dated
    if dated != moment and row.original_occurred_at is None:
        row.original_occurred_at = moment
    return row
