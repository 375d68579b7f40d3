from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from donations.models import Donation, TransitionLog, WebhookEvent
from donations.services import events


class TransitionInline(admin.TabularInline):
    model = TransitionLog
    extra = 0
    can_delete = False
    fields = ["created_at", "action", "from_status", "to_status", "applied", "note", "event_id"]
    readonly_fields = fields  # type: ignore[assignment]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Donation)
class DonationAdmin(admin.ModelAdmin):
    """Finance's view of gifts. Money fields are written only by the Stripe path."""

    list_display = [
        "created_at",
        "project",
        "donor_name",
        "amount",
        "status",
        "frequency",
        "settled",
        "stripe_fee",
        "needs_review",
    ]
    list_filter = ["status", "frequency", "needs_review", "project", "amount_currency"]
    search_fields = [
        "=id",
        "donor_name",
        "donor_email",
        "=payment_intent_id",
        "=charge_id",
        "=checkout_session_id",
        "=invoice_id",
    ]
    date_hierarchy = "created_at"
    list_select_related = ["project"]
    inlines = [TransitionInline]
    readonly_fields = [f.name for f in Donation._meta.fields if f.name != "needs_review"] + [
        "amount_currency"
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "type", "stripe_id", "status", "attempts", "processed_at"]
    list_filter = ["status", "type"]
    search_fields = ["=stripe_id"]
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]
    actions = ["reprocess"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Process the selected events again")
    def reprocess(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        done = 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                events.event_process(event_pk=pk)
                done += 1
            except events.ProcessingDeferred as exc:
                messages.warning(request, f"Event {pk} deferred: {exc}")
        messages.info(request, f"{done} event(s) processed.")
