"""The desk's donations list and gift page: donor contact details only for those allowed to
see them, the money fields' history, "export these", and the gift page's tools (refund,
cancel the monthly gift, re-send the receipt)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from donations.admin import DonationAdmin
from donations.admin_scale import MAX_RELATED
from donations.models import Donation
from donations.services.receipts import receipt_resend
from finance.admin.desk_pages import form_page, require
from finance.admin.exports import export_respond
from finance.admin.field_history import DONATION_HISTORY_SHOWN, history_table
from finance.admin.list_filters import MethodFilter, PaidRangeFilter, PayoutFilter
from finance.admin.money_lists import (
    MONEY_CHANGE_LIST,
    MoneyListMixin,
    TotalsGroup,
    money_cell,
    short_text,
)
from finance.admin.refunds import (
    RefundRequestInline,
    cancel_monthly_view,
    monthly_cancellable,
    refund_view,
)
from finance.models import FinanceAction, OfflineGift
from finance.permissions import CONTACT_FIELDS, P_CONTACT, P_EXPORT, P_REFUND, P_SEND
from finance.services.action_log import action_record
from finance.services.export_filters import ExportFilters


class ResendForm(forms.Form):
    to = forms.EmailField(
        required=False, help_text="Leave empty to send it to the donor's email on the gift."
    )


admin.site.unregister(Donation)


@admin.register(Donation)
class FinanceDonationAdmin(MoneyListMixin, DonationAdmin):
    """The donations list and page with the desk's tools. Donor contact details only for
    those allowed to see them. The list shows what a finance officer reads at 1280 px (the
    date, a short project title, the donor, the amount, the status, the fee; the net is
    in the totals and on the gift's page), money
    right-aligned with its currency, and totals of the selected rows."""

    change_list_template = MONEY_CHANGE_LIST
    change_form_template = "admin/finance/donation_change_form.html"
    actions = ["export_csv", "export_xlsx"]
    list_display = [
        "created_at",
        "project_short",
        "donor",
        "amount_money",
        "status",
        "fee_money",
    ]
    list_filter = [
        PaidRangeFilter,
        ("created_at", admin.DateFieldListFilter),
        "status",
        "project",
        PayoutFilter,
        MethodFilter,
        "frequency",
        "needs_review",
        "amount_currency",
        "referral_channel",
    ]
    search_help_text = (
        "A Stripe id (pi_, ch_, cs_, in_, sub_, cus_), a payout (po_) or balance transaction "
        "(txn_), a donation id, a receipt number (2026-000123), an amount (50 or 1,250.00), "
        "a cheque or bank reference, an email address (exact, any case), or three or more "
        "letters of a name."
    )
    money_totals = (
        TotalsGroup("amount_currency", (("Amount", "amount"),)),
        TotalsGroup(
            "settled_currency", (("Settled", "settled"), ("Fees", "stripe_fee"), ("Net", "net"))
        ),
    )

    @admin.display(description="Project", ordering="project__title")
    def project_short(self, obj: Donation) -> str:
        return short_text(obj.project.title, 22)

    @admin.display(description="Donor", ordering="donor_name")
    def donor(self, obj: Donation) -> str:
        return obj.donor_name

    @admin.display(description="Donor", ordering="donor_name")
    def donor_contact(self, obj: Donation) -> str:
        return format_html("{}<small>{}</small>", obj.donor_name, obj.donor_email)

    def get_list_display(self, request: HttpRequest) -> Any:
        fields = list(super().get_list_display(request))
        if request.user.has_perm(P_CONTACT):
            fields[fields.index("donor")] = "donor_contact"
        return fields

    @admin.display(description="Amount", ordering="amount")
    def amount_money(self, obj: Donation) -> str:
        return money_cell(obj.amount)

    @admin.display(description="Fee", ordering="stripe_fee")
    def fee_money(self, obj: Donation) -> str:
        return money_cell(obj.stripe_fee)

    @admin.display(description="Net", ordering="net")
    def net_money(self, obj: Donation) -> str:
        return money_cell(obj.net)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Donation], search_term: str
    ) -> tuple[QuerySet[Donation], bool]:
        found, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if any(c.isdigit() for c in term) and "@" not in term and "_" not in term:
            # A cheque number or bank reference (it has digits; names seldom do): the
            # offline gifts are few, and their reference needs no index.
            # Their ids first: an OR with a subquery would make the planner scan the gifts.
            ids = list(
                OfflineGift.objects.filter(reference__iexact=term).values_list(
                    "donation_id", flat=True
                )[:MAX_RELATED]
            )
            if ids:
                found = found | queryset.filter(pk__in=ids)
        return found, duplicates

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        inlines = list(super().get_inlines(request, obj))
        if request.user.has_perm(P_REFUND) or request.user.has_perm("donations.view_refundrequest"):
            inlines.append(RefundRequestInline)
        return inlines

    def get_search_fields(self, request: HttpRequest) -> Any:
        fields = list(super().get_search_fields(request))
        if not request.user.has_perm(P_CONTACT):
            fields = [f for f in fields if f.lstrip("=^@") not in CONTACT_FIELDS]
        return fields

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # Django allows any lookup on a model's own field through the URL: without this,
        # ?donor_email__startswith=a finds an address letter by letter for staff who may
        # not see it (the admin answers 400, DisallowedModelAdminLookup).
        field = lookup.split("__", 1)[0]
        if field in CONTACT_FIELDS and (request is None or not request.user.has_perm(P_CONTACT)):
            return False
        return bool(super().lookup_allowed(lookup, value, request))  # type: ignore[arg-type]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if not request.user.has_perm(P_CONTACT):
            fields = [f for f in fields if f not in CONTACT_FIELDS]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.has_perm(P_CONTACT):
            fields = [f for f in fields if f not in CONTACT_FIELDS]
        if obj is not None and request.user.has_perm("donations.view_donationhistory"):
            fields.append("money_history")
        return fields

    @admin.display(description="History of the money fields")
    def money_history(self, obj: Donation) -> str:
        return history_table(obj, DONATION_HISTORY_SHOWN)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if not request.user.has_perm(P_EXPORT):
            actions.pop("export_csv", None)
            actions.pop("export_xlsx", None)
        return actions

    def save_model(self, request: HttpRequest, obj: Donation, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "needs_review" in form.changed_data:
            action_record(
                FinanceAction.Kind.NEEDS_REVIEW,
                request.user,
                f"Gift {obj.pk} {'flagged' if obj.needs_review else 'cleared'} for review",
                target=f"donation:{obj.pk}",
                detail={"needs_review": obj.needs_review},
            )

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<uuid:pk>/refund/",
                wrap(lambda request, pk: refund_view(self, request, pk)),
                name="donations_donation_refund",
            ),
            path(
                "<uuid:pk>/cancel-monthly/",
                wrap(lambda request, pk: cancel_monthly_view(self, request, pk)),
                name="donations_donation_cancel_monthly",
            ),
            path(
                "<uuid:pk>/resend-receipt/",
                wrap(self.resend_view),
                name="donations_donation_resend",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        try:
            pk = uuid.UUID(unquote(object_id))
        except ValueError:
            # A mistyped id (or a tool's URL missing its id: ".../resend/" lands here as
            # "<junk>/resend"), never a query with a value that is not a UUID.
            raise Http404("No gift has this id.") from None
        extra = dict(extra_context or {})
        extra["can_refund"] = request.user.has_perm(P_REFUND)
        extra["can_resend"] = request.user.has_perm(P_SEND)
        extra["can_cancel_monthly"] = monthly_cancellable(
            request, Donation.objects.filter(pk=pk).first()
        )
        return super().change_view(request, object_id, form_url, extra)

    def resend_view(self, request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
        require(request, P_SEND)
        d = get_object_or_404(Donation.objects.select_related("project"), pk=pk)

        def submit(data: dict[str, Any]) -> HttpResponse:
            address = receipt_resend(donation_id=d.pk, to=data["to"])
            action_record(
                FinanceAction.Kind.RECEIPT_RESEND,
                request.user,
                f"Receipt for gift {d.pk} re-sent"
                + (" (corrected after a refund)" if d.refunded.amount > 0 else ""),
                target=f"donation:{d.pk}",
                detail={"to": address, "corrected_email": address != d.donor_email},
            )
            messages.success(request, f"Receipt sent to {address}.")
            return HttpResponseRedirect(reverse("admin:donations_donation_change", args=[d.pk]))

        return form_page(
            self,
            request,
            form_class=ResendForm,
            template="admin/finance/resend.html",
            title=f"Re-send the receipt of gift {d.pk}",
            submit=submit,
            refused=ValueError,
            donation=d,
        )

    @admin.action(description="Export these to CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Donation]) -> HttpResponseBase:
        return export_respond(request, "donations", "csv", ExportFilters(), queryset)

    @admin.action(description="Export these to XLSX")
    def export_xlsx(self, request: HttpRequest, queryset: QuerySet[Donation]) -> HttpResponseBase:
        return export_respond(request, "donations", "xlsx", ExportFilters(), queryset)
