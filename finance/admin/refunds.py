"""Refunds from the desk: the refund page of a gift (capped at what remains, one idempotency
key per form, pending until Stripe confirms), the refund requests list, and cancelling a
donor's monthly gift."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse

from donations.admin_base import NoWrites, ReadOnlyInline
from donations.models import Donation
from finance.admin.desk_pages import form_page, require
from finance.models import RefundRequest
from finance.permissions import P_REFUND
from finance.services import desk_refunds as refunds
from finance.services import monthly_cancel


@admin.register(RefundRequest)
class RefundRequestAdmin(NoWrites, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "created_at",
        "donation",
        "amount",
        "reason",
        "state",
        "confirmed",
        "requested_by",
    ]
    list_filter = ["state", "reason"]
    search_fields = ["=donation__id", "=provider_refund_id"]
    list_select_related = ["donation", "donation__project", "requested_by"]
    readonly_fields = [f.name for f in RefundRequest._meta.fields] + ["confirmed"]

    @admin.display(description="Confirmed by Stripe's event", boolean=True)
    def confirmed(self, obj: RefundRequest) -> bool:
        return refunds.refund_confirmed(obj)


class RefundRequestInline(ReadOnlyInline):
    model = RefundRequest
    fields = [
        "created_at",
        "amount",
        "reason",
        "note",
        "state",
        "provider_refund_id",
        "error",
        "requested_by",
    ]
    readonly_fields = fields  # type: ignore[assignment]


class RefundForm(forms.Form):
    key = forms.UUIDField(widget=forms.HiddenInput)
    amount = forms.CharField(max_length=20)
    reason = forms.ChoiceField(choices=RefundRequest.Reason.choices)
    note = forms.CharField(max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=300, required=False, help_text="e.g. the donor asked by phone"
    )


def _gift_page(d: Donation) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("admin:donations_donation_change", args=[d.pk]))


def refund_view(model_admin: Any, request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    require(request, P_REFUND)
    d = get_object_or_404(Donation.objects.select_related("project"), pk=pk)
    left = refunds.refundable(d)

    def submit(data: dict[str, Any]) -> HttpResponse:
        amount = refunds.parse_amount(data["amount"], str(left.currency))
        rr = refunds.refund_request(
            donation_id=d.pk,
            amount=amount,
            reason=data["reason"],
            note=data["note"],
            actor=request.user,
            idempotency_key=data["key"],
        )
        pending = not refunds.refund_confirmed(rr)
        state = "sent: pending until Stripe confirms it" if pending else "confirmed by Stripe"
        messages.success(request, f"Refund of {rr.amount} {state}.")
        return _gift_page(d)

    return form_page(
        model_admin,
        request,
        form_class=RefundForm,
        template="admin/finance/refund.html",
        title=f"Refund gift {d.pk}",
        submit=submit,
        refused=refunds.RefundRefused,
        initial={"key": uuid.uuid4(), "amount": left.amount, "reason": "requested_by_customer"},
        donation=d,
        refundable=left,
    )


def monthly_cancellable(request: HttpRequest, d: Donation | None) -> bool:
    """Whether the desk offers "Cancel the monthly gift" on this gift's page."""
    return bool(
        request.user.has_perm(P_REFUND)
        and d is not None
        and d.frequency == Donation.Frequency.MONTHLY
        and d.parent_id is None
        and d.subscription_id
        and d.subscription_status not in monthly_cancel.ENDED
    )


def cancel_monthly_view(model_admin: Any, request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    require(request, P_REFUND)
    d = get_object_or_404(Donation.objects.select_related("project"), pk=pk)

    def submit(data: dict[str, Any]) -> HttpResponse:
        plan_status = monthly_cancel.monthly_cancel(
            donation_id=d.pk, actor=request.user, reason=data["reason"]
        )
        messages.success(request, f"Monthly gift cancelled (Stripe: {plan_status}).")
        return _gift_page(d)

    return form_page(
        model_admin,
        request,
        form_class=CancelForm,
        template="admin/finance/cancel_monthly.html",
        title=f"Cancel the monthly gift {d.pk}",
        submit=submit,
        refused=monthly_cancel.PlanRefused,
        donation=d,
    )
