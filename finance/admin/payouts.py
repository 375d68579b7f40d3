"""Payouts and matching pools on the desk: the same lists as the money model's admin, with
the money fields' history on each page and every pool change in the action log."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from donations.admin import LedgerEntryAdmin, MatchingPoolAdmin, PayoutAdmin, PayoutLineAdmin
from donations.models import LedgerEntry, MatchingPool, Payout, PayoutLine
from finance.admin.exports import export_respond
from finance.admin.field_history import PAYOUT_HISTORY_SHOWN, POOL_HISTORY_SHOWN, FieldHistoryMixin
from finance.admin.money_lists import (
    MONEY_CHANGE_LIST,
    MoneyListMixin,
    TotalsGroup,
    money_cell,
    money_text,
    short_text,
)
from finance.models import FinanceAction
from finance.services.action_log import action_record
from finance.services.dashboard import PAYOUT_COLUMNS, payout_summary
from finance.services.export_filters import ExportFilters

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
class FinancePayoutAdmin(MoneyListMixin, FieldHistoryMixin, PayoutAdmin):
    """Payouts with their amount right-aligned, totals of the selected payouts, and each
    payout's page adding its money per project (payout_summary) and its journal."""

    change_list_template = MONEY_CHANGE_LIST
    history_permission = "donations.view_payouthistory"
    history_shown = PAYOUT_HISTORY_SHOWN
    list_display = [
        "created",
        "stripe_id",
        "amount_money",
        "status",
        "arrival_date",
        "lines_status",
        "line_count",
        "unlinked_count",
        "difference",
    ]
    money_totals = (TotalsGroup("amount_currency", (("Amount", "amount"),)),)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields[:0] = ["per_project", "journal_link"]
        return fields

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        # The summary first: what a finance officer opens a payout for.
        for name in ("journal_link", "per_project"):
            if name in fields:
                fields.remove(name)
                fields.insert(0, name)
        return fields

    @admin.display(description="Per project")
    def per_project(self, obj: Payout) -> str:
        rows = payout_summary(obj)
        if not rows:
            return "No ledger rows are tied to this payout yet."
        head = format_html_join(
            "", '<th class="num">{}</th>', ((c.capitalize(),) for c in PAYOUT_COLUMNS)
        )
        body = format_html_join(
            "",
            "<tr><td>{}</td>{}</tr>",
            (
                (
                    row["project"],
                    format_html_join(
                        "",
                        '<td class="num">{}</td>',
                        ((money_text(v, obj.currency),) for v in row["figures"].values()),
                    ),
                )
                for row in rows
            ),
        )
        return format_html(
            '<table class="finance-table payout-summary"><thead><tr><th>Project</th>{}</tr>'
            "</thead><tbody>{}</tbody></table>",
            head,
            body,
        )

    @admin.display(description="Journal")
    def journal_link(self, obj: Payout) -> str:
        if obj.status != Payout.Status.PAID:
            return "A journal is made once the payout is paid (the bank deposit)."
        return format_html(
            'Download: <a href="{}">Xero manual journal</a> · '
            '<a href="{}">QuickBooks Online journal entries</a> '
            '(or <a href="{}?{}">the Exports page</a>)',
            reverse("admin:donations_payout_journal", args=[obj.pk, "xero"]),
            reverse("admin:donations_payout_journal", args=[obj.pk, "quickbooks"]),
            reverse("admin:donations_financedesk_exports"),
            urlencode({"kind": "journal", "payout": obj.stripe_id}),
        )

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:pk>/journal/<str:system>/",
                self.admin_site.admin_view(self.journal_view),
                name="donations_payout_journal",
            ),
            *super().get_urls(),
        ]

    def journal_view(self, request: HttpRequest, pk: int, system: str) -> HttpResponseBase:
        """The payout's journal as a CSV file, through the one export runner."""
        payout = get_object_or_404(Payout, pk=pk)
        return export_respond(
            request, "journal", "csv", ExportFilters(payout=payout.stripe_id), system=system
        )

    @admin.display(description="Amount", ordering="amount")
    def amount_money(self, obj: Payout) -> str:
        return money_cell(obj.amount)


admin.site.unregister(LedgerEntry)


@admin.register(LedgerEntry)
class FinanceLedgerEntryAdmin(MoneyListMixin, LedgerEntryAdmin):
    change_list_template = MONEY_CHANGE_LIST
    list_display = [
        "occurred_at",
        "kind",
        "amount_money",
        "settled_money",
        "project_short",
        "donation_id",
        "payout",
    ]
    list_filter = ["kind", ("occurred_at", admin.DateFieldListFilter), "project"]
    money_totals = (
        TotalsGroup("amount_currency", (("Amount", "amount"),)),
        TotalsGroup("settled_currency", (("Settled", "settled"),)),
    )

    @admin.display(description="Amount", ordering="amount")
    def amount_money(self, obj: LedgerEntry) -> str:
        return money_cell(obj.amount)

    @admin.display(description="Settled", ordering="settled")
    def settled_money(self, obj: LedgerEntry) -> str:
        return money_cell(obj.settled)

    @admin.display(description="Project", ordering="project__title")
    def project_short(self, obj: LedgerEntry) -> str:
        return short_text(obj.project.title, 24)


admin.site.unregister(PayoutLine)


@admin.register(PayoutLine)
class FinancePayoutLineAdmin(MoneyListMixin, PayoutLineAdmin):
    change_list_template = MONEY_CHANGE_LIST
    list_display = [
        "created",
        "payout",
        "balance_transaction_id",
        "type",
        "amount_money",
        "fee_money",
        "net_money",
        "donation_id",
    ]
    money_totals = (
        TotalsGroup("currency", (("Amount", "amount"), ("Fees", "fee"), ("Net", "net"))),
    )

    @admin.display(description="Amount", ordering="amount")
    def amount_money(self, obj: PayoutLine) -> str:
        return money_text(obj.amount, obj.currency)

    @admin.display(description="Fee", ordering="fee")
    def fee_money(self, obj: PayoutLine) -> str:
        return money_text(obj.fee, obj.currency)

    @admin.display(description="Net", ordering="net")
    def net_money(self, obj: PayoutLine) -> str:
        return money_text(obj.net, obj.currency)
