from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from donations.models import (
    Donation,
    MatchAllocation,
    MatchingPool,
    TransitionLog,
    WebhookEvent,
)
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


class MatchingPoolForm(forms.ModelForm):
    class Meta:
        model = MatchingPool
        fields = [
            "sponsor_name",
            "show_sponsor",
            "cap",
            "ratio",
            "starts_at",
            "ends_at",
            "covers_all_projects",
            "projects",
            "active",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        cap, ratio = data.get("cap"), data.get("ratio")
        if cap is not None and cap.amount <= 0:
            self.add_error("cap", "The cap must be more than zero.")
        if self.instance.pk and cap is not None:
            # The admin validates and saves in one transaction: lock the pool row and read
            # what is allocated now, not when the form was loaded.
            allocated = (
                MatchingPool.objects.select_for_update()
                .filter(pk=self.instance.pk)
                .values_list("allocated", flat=True)
                .first()
            )
            if allocated is not None and cap.amount < allocated:
                self.add_error("cap", f"{allocated} is already allocated from this pool.")
        if self.instance.pk and cap is not None and str(cap.currency) != self.instance.currency:
            self.add_error("cap", "The currency of a pool cannot change once it exists.")
        if ratio is not None and ratio <= 0:
            self.add_error("ratio", "The ratio must be more than zero (1 = 2X).")
        start, end = data.get("starts_at"), data.get("ends_at")
        if start and end and end <= start:
            self.add_error("ends_at", "The end must be after the start.")
        projects = data.get("projects") or []
        if cap is not None:
            wrong = [p.title for p in projects if p.currency != str(cap.currency)]
            if wrong:
                self.add_error(
                    "projects",
                    f"These projects are not in {cap.currency}: {', '.join(wrong)}.",
                )
        if not projects and not data.get("covers_all_projects"):
            self.add_error("projects", "Choose the projects this pool matches, or all projects.")
        return data


class AllocationInline(admin.TabularInline):
    model = MatchAllocation
    extra = 0
    can_delete = False
    fields = ["created_at", "donation", "kind", "amount", "note"]
    readonly_fields = fields  # type: ignore[assignment]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MatchingPool)
class MatchingPoolAdmin(admin.ModelAdmin):
    """Finance's matching pools. The ledger is read-only: it is written by gifts alone."""

    form = MatchingPoolForm
    list_display = [
        "sponsor_name",
        "multiplier",
        "cap",
        "matched_so_far",
        "remaining_display",
        "gifts_matched",
        "starts_at",
        "ends_at",
        "active",
    ]
    list_filter = ["active"]
    search_fields = ["sponsor_name"]
    filter_horizontal = ["projects"]
    inlines = [AllocationInline]
    readonly_fields = ["allocated"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[MatchingPool]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_matched=Count(
                    "allocations__donation",
                    filter=Q(allocations__kind=MatchAllocation.Kind.ALLOCATE),
                    distinct=True,
                )
            )
        )

    @admin.display(description="Ratio")
    def multiplier(self, obj: MatchingPool) -> str:
        return obj.multiplier_label

    @admin.display(description="Matched so far")
    def matched_so_far(self, obj: MatchingPool) -> str:
        return f"{obj.allocated} {obj.currency}"

    @admin.display(description="Remaining")
    def remaining_display(self, obj: MatchingPool) -> str:
        return f"{obj.remaining} {obj.currency}"

    @admin.display(description="Gifts matched")
    def gifts_matched(self, obj: MatchingPool) -> int:
        return int(getattr(obj, "n_matched", 0))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
