"""The desk's money lists as a finance officer reads them: amounts right-aligned with their
currency (``money_text``, plain string formatting: a list cell through Babel costs more
than the rest of the page), and a totals row per currency for the rows the filters and the
search selected.

The totals are one ``GROUP BY`` currency query per money group over the changelist's own
filtered queryset, so they are served by the index the list itself uses (a date range on
``created_at``, a project, a payout). They are computed only for a filtered or searched
list of at most ``TOTALS_UP_TO`` rows by the paginator's count (the planner's estimate once
large, see ``donations.admin_scale``): the whole table at a million gifts is never summed
on a page view; the page says to narrow the list instead."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from donations.money import currency_exponent

TOTALS_UP_TO = 100_000
MONEY_CHANGE_LIST = "admin/finance/money_change_list.html"


def money_text(amount: Decimal | None, currency: str) -> str:
    """``1,250.00 USD``: thousands marks, the currency's own decimals, its code after."""
    if amount is None:
        return ""
    code = str(currency).upper()
    places = currency_exponent(code)
    return f"{Decimal(amount):,.{places}f} {code}"


def money_cell(value: Any) -> str:
    """A Money value (or None) as ``money_text``."""
    if value is None:
        return ""
    return money_text(value.amount, str(value.currency))


@dataclass(frozen=True)
class TotalsGroup:
    """Columns summed together, grouped by one currency column."""

    currency: str
    sums: tuple[tuple[str, str], ...]  # (label, column)


def totals_rows(queryset: QuerySet[Any], groups: tuple[TotalsGroup, ...]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for group in groups:
        found = (
            queryset.order_by()
            .values(group.currency)
            .annotate(rows=Count("pk"), **{f"sum_{col}": Sum(col) for _, col in group.sums})
            .order_by(group.currency)
        )
        for row in found:
            currency = row[group.currency]
            if not currency:
                continue
            rows.append(
                {
                    "currency": str(currency).upper(),
                    "rows": row["rows"],
                    "cells": [
                        (label, money_text(row[f"sum_{col}"] or Decimal(0), currency))
                        for label, col in group.sums
                    ],
                }
            )
    return rows


class MoneyListMixin:
    """A changelist with totals of the selected rows; the admin using it sets
    ``change_list_template = MONEY_CHANGE_LIST`` (the desk's stylesheet and the totals)."""

    money_totals: tuple[TotalsGroup, ...] = ()

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        response = super().changelist_view(request, extra_context)  # type: ignore[misc]
        context = getattr(response, "context_data", None)
        if isinstance(response, TemplateResponse) and context and "cl" in context:
            cl = context["cl"]
            if not self.money_totals:
                pass
            elif not (cl.get_filters_params() or cl.query):
                context["money_totals_note"] = (
                    "Totals are shown for a filtered list: choose a date range, a project "
                    "or a payout, or search."
                )
            elif cl.result_count > TOTALS_UP_TO:
                context["money_totals_note"] = (
                    f"Totals are shown for up to {TOTALS_UP_TO:,} rows: narrow the list "
                    "(a date range, a project, a payout) to see them."
                )
            else:
                context["money_totals"] = totals_rows(cl.queryset, self.money_totals)
        return response


def short_text(text: str, limit: int = 28) -> SafeString:
    """A long title cut to fit its column, whole in the tooltip."""
    if len(text) <= limit:
        return format_html("{}", text)
    return format_html('<span title="{}">{}…</span>', text, text[: limit - 1].rstrip())
