"""The month-end journals: what reaches the books without passing through Stripe, so no
payout carries it. Per month (dated its last day, in the charity's zone) and currency:

- matched money: the sponsors' pledges receivable against the match income per project,
  from the ledger's ``match`` and ``match_reversal`` rows;
- offline gifts by batch (the deposit slip): the bank against the gift income per project,
  from ``offline_gift`` and ``offline_void`` rows (gifts in no batch make one journal).

A date range selects the months it touches, each month whole, so an export of a closed month
always gives the same journals (same numbers, same lines)."""

from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import cast
from zoneinfo import ZoneInfo

from django.db import transaction

from donations.models import LedgerEntry
from finance.services.export_filters import ExportFilters, filters_apply, zone_name
from finance.services.journal_entry import Entry

K = LedgerEntry.Kind
MONTH_END_KINDS = (K.MATCH, K.MATCH_REVERSAL, K.OFFLINE_GIFT, K.OFFLINE_VOID)


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_end_journals(f: ExportFilters) -> list[Entry]:
    """The month-end journals of every month the filters' dates touch (all months without
    dates); with a project, only its lines (each journal still balances)."""
    whole = replace(
        f,
        date_from=f.date_from.replace(day=1) if f.date_from else None,
        date_to=_month_end(f.date_to) if f.date_to else None,
    )
    rows = filters_apply(
        LedgerEntry.objects.filter(kind__in=MONTH_END_KINDS), whole, moment="occurred_at"
    ).values_list(
        "kind",
        "amount",
        "amount_currency",
        "occurred_at",
        "project__title",
        "pool__sponsor_name",
        "donation__offline__batch_id",
        "donation__offline__batch__name",
    )
    zone = ZoneInfo(zone_name())
    entries: dict[tuple[date, str, str], Entry] = {}
    # One transaction: the server-side cursor then streams WITHOUT HOLD on one server
    # connection, as PgBouncer's transaction pooling needs (docs/operations.md).
    with transaction.atomic():
        for kind, money, currency, occurred, project, sponsor, batch_id, batch in rows.order_by(
            "occurred_at", "id"
        ).iterator(chunk_size=2000):
            # values_list yields the column's Decimal, not the Money the field's descriptor returns.
            amount = cast("Decimal", money)
            month = _month_end(occurred.astimezone(zone).date())
            ym = f"{month:%Y-%m}"
            if kind in (K.MATCH, K.MATCH_REVERSAL):
                key = (month, currency, "match")
                entry = entries.get(key) or Entry(
                    number=f"MATCH-{ym}-{currency}",
                    narration=f"Matched gifts, month end {ym} ({currency})",
                    day=month,
                    currency=currency,
                )
                who = sponsor or "the sponsor"
                if kind == K.MATCH:
                    entry.add(f"Pledged by {who}, {project}", "pledges", amount, project)
                    entry.add(f"Matched gifts, {project}", kind, -amount, project)
                else:  # a reversal's amount is negative: the pledge released, the income back
                    entry.add(
                        f"Pledge released by {who} (refunds), {project}", "pledges", amount, project
                    )
                    entry.add(f"Matches reversed, {project}", kind, -amount, project)
            else:
                key = (month, currency, f"batch:{batch_id or ''}")
                slip = f"batch {batch}" if batch_id else "no batch"
                entry = entries.get(key) or Entry(
                    number=f"BATCH-{batch_id}-{ym}" if batch_id else f"OFFLINE-{ym}-{currency}",
                    narration=f"Offline gifts, {slip}, month end {ym} ({currency})",
                    day=month,
                    currency=currency,
                )
                if kind == K.OFFLINE_GIFT:
                    entry.add(f"Deposit of offline gifts, {slip}", "offline_bank", amount)
                    entry.add(f"Offline gifts, {project}", kind, -amount, project)
                else:  # a void's amount is negative
                    entry.add(f"Voided offline gifts, {slip}", "offline_bank", amount)
                    entry.add(f"Voided offline gifts, {project}", kind, -amount, project)
            entries[key] = entry
    merged = [e.merged() for _key, e in sorted(entries.items(), key=lambda kv: kv[0])]
    return [e for e in merged if e.lines]
