"""Offline gifts (cheques, bank transfers) recorded by the desk, singly or in paying-in
batches with an expected count and total; voided, never deleted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone

from donations.admin_base import ReadOnlyInline
from finance.admin.desk_pages import form_page, require
from finance.models import OfflineBatch, OfflineGift
from finance.permissions import P_OFFLINE
from finance.services import offline_gifts as offline_service
from projects.models import Project


class OfflineGiftForm(forms.Form):
    project: forms.ModelChoiceField[Project] = forms.ModelChoiceField(
        queryset=Project.objects.order_by("title")
    )
    amount = forms.DecimalField(max_digits=14, decimal_places=3, min_value=Decimal("0.001"))
    currency = forms.ChoiceField(
        choices=[(c, c) for c in settings.CURRENCIES],
        help_text="The project's own currency, as the gift was banked.",
    )
    donor_name = forms.CharField(max_length=120)
    donor_email = forms.EmailField(required=False, help_text="A receipt goes here when given.")
    method = forms.ChoiceField(choices=OfflineGift.Method.choices)
    reference = forms.CharField(
        max_length=120, required=False, help_text="cheque number, bank reference"
    )
    received_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    batch = forms.ModelChoiceField(
        queryset=OfflineBatch.objects.filter(closed_at__isnull=True), required=False
    )
    note = forms.CharField(max_length=300, required=False)


def _project_initial(request: HttpRequest) -> dict[str, Any]:
    """The form's project and currency: the project's own currency when one is asked for
    (``?project=``), else the site's default; the service refuses a currency that is not
    the project's, and this keeps the form from proposing one."""
    project = None
    raw = request.GET.get("project", "")
    if raw.isdigit():
        project = Project.objects.filter(pk=int(raw)).first()
    if project is None:
        batch = request.GET.get("batch", "")
        found = OfflineBatch.objects.filter(pk=int(batch)).first() if batch.isdigit() else None
        currency = found.expected_total.currency if found else settings.DEFAULT_CURRENCY
        return {"currency": str(currency)}
    return {"project": project.pk, "currency": project.currency}


class VoidForm(forms.Form):
    reason = forms.CharField(max_length=300)


class OfflineGiftInline(ReadOnlyInline):
    """The batch's gifts, for whoever records offline gifts (the model's own view
    permission is a superuser's alone: the desk's permission is what counts here)."""

    model = OfflineGift
    fields = ["donation", "method", "reference", "received_on", "voided_at"]
    readonly_fields = fields  # type: ignore[assignment]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm(P_OFFLINE))

    def get_queryset(self, request: HttpRequest) -> Any:
        # Each row shows its gift's title, which names the project.
        return super().get_queryset(request).select_related("donation__project")


class OfflinePermission:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(P_OFFLINE))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm(P_OFFLINE))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OfflineGift)
class OfflineGiftAdmin(OfflinePermission, admin.ModelAdmin):
    list_display = [
        "received_on",
        "donation",
        "method",
        "reference",
        "batch",
        "voided_at",
        "recorded_by",
    ]
    list_filter = ["method", "batch"]
    search_fields = ["=reference", "=donation__id", "donation__donor_name"]
    list_select_related = ["donation", "donation__project", "batch", "recorded_by"]
    readonly_fields = [f.name for f in OfflineGift._meta.fields]
    change_form_template = "admin/finance/offline_change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(P_OFFLINE))

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/void/", wrap(self.void_view), name="donations_offlinegift_void"),
            *super().get_urls(),
        ]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        require(request, P_OFFLINE)

        def submit(data: dict[str, Any]) -> HttpResponse:
            offline = offline_service.offline_gift_record(
                gift=offline_service.OfflineGiftInput(
                    project=data["project"],
                    amount=data["amount"],
                    currency=data["currency"],
                    donor_name=data["donor_name"],
                    donor_email=data["donor_email"] or "",
                    method=data["method"],
                    reference=data["reference"],
                    received_on=data["received_on"],
                    note=data["note"],
                    batch_id=data["batch"].pk if data["batch"] else None,
                ),
                actor=request.user,
            )
            messages.success(request, f"Offline gift recorded: {offline.donation.amount}.")
            if "_addanother" in request.POST:
                return HttpResponseRedirect(request.path)
            return HttpResponseRedirect(reverse("admin:donations_offlinegift_changelist"))

        return form_page(
            self,
            request,
            form_class=OfflineGiftForm,
            template="admin/finance/offline_add.html",
            title="Record an offline gift",
            submit=submit,
            refused=offline_service.OfflineRefused,
            initial={
                "received_on": timezone.localdate(),
                "batch": request.GET.get("batch"),
                **_project_initial(request),
            },
        )

    def void_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        require(request, P_OFFLINE)
        offline = get_object_or_404(OfflineGift.objects.select_related("donation"), pk=pk)

        def submit(data: dict[str, Any]) -> HttpResponse:
            offline_service.offline_gift_void(
                offline_id=pk, reason=data["reason"], actor=request.user
            )
            messages.success(request, "The gift is voided: a reversing entry is in the ledger.")
            return HttpResponseRedirect(reverse("admin:donations_offlinegift_change", args=[pk]))

        return form_page(
            self,
            request,
            form_class=VoidForm,
            template="admin/finance/offline_void.html",
            title=f"Void {offline}",
            submit=submit,
            refused=offline_service.OfflineRefused,
            offline=offline,
        )


class OfflineBatchForm(forms.ModelForm):
    class Meta:
        model = OfflineBatch
        fields = ["name", "expected_count", "expected_total", "note"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("expected_count") is not None and data["expected_count"] <= 0:
            self.add_error("expected_count", "A batch expects at least one gift.")
        total = data.get("expected_total")
        if total is not None and total.amount <= 0:
            self.add_error("expected_total", "The expected total must be more than zero.")
        return data


@admin.register(OfflineBatch)
class OfflineBatchAdmin(OfflinePermission, admin.ModelAdmin):
    form = OfflineBatchForm
    list_display = [
        "created_at",
        "name",
        "expected_count",
        "expected_total",
        "gifts_so_far",
        "closed_at",
    ]
    inlines = [OfflineGiftInline]
    change_form_template = "admin/finance/batch_change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(P_OFFLINE))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return [
                "name",
                "expected_count",
                "expected_total",
                "note",
                "created_by",
                "created_at",
                "closed_at",
                "closed_by",
            ]
        return []

    @admin.display(description="Gifts so far (count, total)")
    def gifts_so_far(self, obj: OfflineBatch) -> str:
        count, total = offline_service.batch_figures(obj)
        return f"{count}, {total} {obj.expected_total.currency}"

    def save_model(self, request: HttpRequest, obj: OfflineBatch, form: Any, change: bool) -> None:
        if not change:
            obj.created_by_id = request.user.pk
        super().save_model(request, obj, form, change)

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/close/", wrap(self.close_view), name="donations_offlinebatch_close"),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        try:
            pk = int(unquote(object_id))
        except ValueError:
            raise Http404("No batch has this id.") from None
        batch = OfflineBatch.objects.filter(pk=pk).first()
        extra = dict(extra_context or {})
        if batch is not None:
            extra["batch_count"], extra["batch_total"] = offline_service.batch_figures(batch)
        return super().change_view(request, object_id, form_url, extra)

    def close_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        require(request, P_OFFLINE)
        if request.method != "POST":
            return HttpResponse("Close a batch with POST.", status=405, content_type="text/plain")
        try:
            batch = offline_service.batch_close(batch_id=pk, actor=request.user)
        except offline_service.OfflineRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Batch {batch.name} closed.")
        return HttpResponseRedirect(reverse("admin:donations_offlinebatch_change", args=[pk]))
