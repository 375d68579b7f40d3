from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from donations.admin_base import NoWrites, ReadOnlyAdmin, ReadOnlyInline
from donations.admin_scale import (
    NAME_SEARCH_MIN_LENGTH,
    EstimatedCountPaginator,
    donation_search,
    exact_search,
)
from donations.models import (
    Donation,
    LedgerEntry,
    MatchAllocation,
    MatchingPool,
    Payout,
    PayoutLine,
    SharedGift,
    TransitionLog,
    WebhookEvent,
)
from donations.selectors import share_channel_totals
from donations.services import events, payouts


class TransitionInline(ReadOnlyInline):
    model = TransitionLog
    fields = ["created_at", "action", "from_status", "to_status", "applied", "note", "event_id"]
    readonly_fields = fields  # type: ignore[assignment]


@admin.register(Donation)
class DonationAdmin(admin.ModelAdmin):
    """Finance's view of gifts. Money fields are written only by the Stripe path.

    Built for a million rows: dates are a filter of ranges on the created_at index (no
    drill-down that reads every row's date), the count is the planner's estimate when it
    is large (EstimatedCountPaginator), no facet counts, and the search goes to one index by
    the shape of what was typed (donation_search)."""

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
    list_filter = [
        ("created_at", admin.DateFieldListFilter),
        "status",
        "frequency",
        "needs_review",
        "project",
        "amount_currency",
        "referral_channel",
    ]
    # Shown by the search box's help; the search itself is donation_search.
    # What may be searched (FinanceDonationAdmin drops contact fields for some staff); how
    # is donation_search's choice, by the shape of the term.
    search_fields = [
        "id",
        "donor_name",
        "donor_email",
        "payment_intent_id",
        "charge_id",
        "checkout_session_id",
        "invoice_id",
        "subscription_id",
        "customer_id",
    ]
    search_help_text = (
        "A Stripe id (pi_, ch_, cs_, in_, sub_ or cus_), a donation id, an email address "
        "(exact, any case), or three or more letters of a name."
    )
    list_select_related = ["project"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    inlines = [TransitionInline]
    readonly_fields = [f.name for f in Donation._meta.fields if f.name != "needs_review"] + [
        "amount_currency"
    ]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Donation], search_term: str
    ) -> tuple[QuerySet[Donation], bool]:
        term = search_term.strip()
        if term and len(term) < NAME_SEARCH_MIN_LENGTH and "@" not in term and "_" not in term:
            messages.warning(request, "Type three or more letters of a name to search by name.")
        allowed = {f.lstrip("=^@") for f in self.get_search_fields(request)}
        return donation_search(queryset, search_term, allowed), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "type", "stripe_id", "status", "attempts", "processed_at"]
    list_filter = ["status", "type"]
    search_fields = ["stripe_id"]
    search_help_text = "An event id (evt_...), exactly."
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]
    # Several events per gift: counted by estimate, searched by the unique index.
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    actions = ["reprocess"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[WebhookEvent], search_term: str
    ) -> tuple[QuerySet[WebhookEvent], bool]:
        return exact_search(queryset, ["stripe_id"], search_term), False

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


class AllocationInline(ReadOnlyInline):
    model = MatchAllocation
    fields = ["created_at", "donation", "kind", "amount", "note"]
    readonly_fields = fields  # type: ignore[assignment]


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


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "occurred_at",
        "kind",
        "amount",
        "settled",
        "project_amount",
        "project",
        "donation_id",
        "balance_transaction_id",
        "payout",
    ]
    list_filter = ["kind"]
    list_select_related = ["project", "payout"]
    search_fields = ["=donation__id", "=balance_transaction_id", "=reference", "=payout__stripe_id"]
    raw_id_fields = ["project", "donation", "pool", "payout"]
    readonly_fields = [f.name for f in LedgerEntry._meta.fields] + [
        "amount_currency",
        "settled_currency",
    ]
    ordering = ["-occurred_at", "-id"]


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = [
        "created",
        "stripe_id",
        "amount",
        "status",
        "arrival_date",
        "automatic",
        "lines_status",
        "line_count",
        "unlinked_count",
        "difference",
    ]
    list_filter = ["lines_status", "status", "automatic"]
    search_fields = ["=stripe_id"]
    readonly_fields = [f.name for f in Payout._meta.fields] + ["amount_currency", "lines_link"]
    ordering = ["-created", "-id"]
    actions = ["relist"]

    @admin.display(description="Lines")
    def lines_link(self, obj: Payout) -> str:
        from django.urls import reverse
        from django.utils.html import format_html

        url = reverse("admin:donations_payoutline_changelist") + f"?payout__id__exact={obj.pk}"
        return format_html('<a href="{}">{} line(s)</a>', url, obj.line_count)

    @admin.action(description="List the selected payouts' lines from Stripe again")
    def relist(self, request: HttpRequest, queryset: QuerySet[Payout]) -> None:
        for stripe_id in queryset.values_list("stripe_id", flat=True):
            payout = payouts.payout_reconcile(payout_id=stripe_id)
            messages.info(request, f"{stripe_id}: {payout.get_lines_status_display()}")


@admin.register(PayoutLine)
class PayoutLineAdmin(ReadOnlyAdmin):
    list_display = [
        "created",
        "payout",
        "balance_transaction_id",
        "type",
        "amount",
        "fee",
        "net",
        "currency",
        "donation_id",
        "ledger_entry_id",
    ]
    list_filter = ["type", ("donation", admin.EmptyFieldListFilter)]
    list_select_related = ["payout"]
    search_fields = ["=balance_transaction_id", "=source_id", "=payout__stripe_id"]
    raw_id_fields = ["payout", "donation", "ledger_entry"]
    readonly_fields = [f.name for f in PayoutLine._meta.fields]
    ordering = ["id"]


@admin.register(SharedGift)
class SharedGiftAdmin(NoWrites, admin.ModelAdmin):
    """How many gifts and how much money each share channel brought (read only)."""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = share_channel_totals()
        context = {
            **self.admin_site.each_context(request),
            "title": "Gifts by share channel",
            "opts": self.model._meta,
            "rows": rows,
            "started": sum(r.started for r in rows),
            "received": sum(r.received for r in rows),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/donations/share_channels.html", context)
