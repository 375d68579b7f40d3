"""Payouts and matching pools on the desk: the same lists as the money model's admin, with
the money fields' history on each page and every pool change in the action log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from donations.admin import MatchingPoolAdmin, PayoutAdmin
from donations.models import MatchingPool, Payout
from finance.admin.field_history import FieldHistoryMixin
from finance.models import FinanceAction
from finance.services.action_log import action_record

PAYOUT_HISTORY_SHOWN = ["status", "amount", "arrival_date", "lines_status", "difference"]
POOL_HISTORY_SHOWN = ["cap", "ratio", "starts_at", "ends_at", "active", "allocated"]

admin.site.unregister(MatchingPool)


@admin.register(MatchingPool)
class FinanceMatchingPoolAdmin(FieldHistoryMixin, MatchingPoolAdmin):
    history_permission = "donations.view_matchingpoolhistory"
    history_shown = POOL_HISTORY_SHOWN

    def save_model(self, request: HttpRequest, obj: MatchingPool, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        action_record(
            FinanceAction.Kind.POOL_CHANGE,
            request.user,
            f"Matching pool {obj.sponsor_name} {'changed' if change else 'created'}",
            target=f"pool:{obj.pk}",
            detail={
                "changed": list(form.changed_data),
                "cap": str(obj.cap),
                "ratio": str(obj.ratio),
                "active": obj.active,
            },
        )


admin.site.unregister(Payout)


@admin.register(Payout)
class FinancePayoutAdmin(FieldHistoryMixin, PayoutAdmin):
    history_permission = "donations.view_payouthistory"
    history_shown = PAYOUT_HISTORY_SHOWN
