"""The desk's list filters: a date range typed in (paid from, to), a payout by its id, and
how an offline gift came in."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from donations.models import Payout, PayoutLine
from finance.models import OfflineGift


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


class PaidRangeFilter(admin.ListFilter):
    """Gifts paid between two days (inclusive), in the charity's time zone."""

    title = "paid (date range)"
    template = "admin/finance/date_range_filter.html"
    parameters = ("paid_from", "paid_to")

    def __init__(self, request: HttpRequest, params: dict[str, Any], model: Any, model_admin: Any):
        super().__init__(request, params, model, model_admin)
        self.values: dict[str, str] = {}
        for name in self.parameters:
            if name in params:
                raw = params.pop(name)
                self.values[name] = str(raw[-1] if isinstance(raw, list) else raw)
                self.used_parameters[name] = self.values[name]

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str | None]:
        return list(self.parameters)

    def choices(self, changelist: Any) -> Iterator[Mapping[str, object]]:
        yield from [
            {
                "values": self.values,
                "others": {k: v for k, v in changelist.params.items() if k not in self.parameters},
                "clear": changelist.get_query_string(remove=list(self.parameters)),
            }
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        start = _day(self.values.get("paid_from", ""))
        end = _day(self.values.get("paid_to", ""))
        zone = timezone.get_current_timezone()
        if start:
            queryset = queryset.filter(succeeded_at__gte=datetime.combine(start, time(), zone))
        if end:
            after = datetime.combine(end + timedelta(days=1), time(), zone)
            # A gift is created before it is paid: the created_at index bounds the scan.
            queryset = queryset.filter(succeeded_at__lt=after, created_at__lt=after)
        return queryset


class PayoutFilter(admin.SimpleListFilter):
    """Gifts in one payout (the last few offered; any payout id in the URL)."""

    title = "payout"
    parameter_name = "payout"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        recent = Payout.objects.order_by("-created", "-id").values_list("stripe_id", "amount")[:8]
        return [(sid, sid) for sid, _ in recent]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if not self.value():
            return queryset
        gifts = PayoutLine.objects.filter(
            payout__stripe_id=self.value(), donation__isnull=False
        ).values("donation_id")
        return queryset.filter(pk__in=gifts)


class MethodFilter(admin.SimpleListFilter):
    """Card (through Stripe) or an offline gift's method."""

    title = "method"
    parameter_name = "method"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("card", "Card (Stripe)"), *OfflineGift.Method.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if value == "card":
            return queryset.filter(offline__isnull=True)
        return queryset.filter(offline__method=value)
