"""The editors' updates admin: write, preview in both languages, send a test to oneself,
see the recipient count and publish; deliveries by status. The projects list gains a
"days since the last update" column (this app's subclass of the projects admin)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from modeltranslation.admin import TranslationAdmin

from projects.admin import ProjectAdmin
from projects.models import Project
from projects.services.editor import prose_editor_csp_update
from projects.services.images import renditions_build, social_rendition_build
from stewardship import selectors
from stewardship.forms import PublishForm, UpdateAdminForm
from stewardship.models import Delivery, Update
from stewardship.services.fanout import deliveries_by_status
from stewardship.services.publishing import PublishRefused, update_publish
from stewardship.services.update_email import test_send, update_message
from stewardship.tasks import fan_out_start

STALE_DAYS = 90  # GlobalGiving's rule: a report on every project every 90 days
CONTACT_PERMISSION = "donations.view_donor_contact"
DELIVERIES_SHOWN = 200


@admin.register(Update)
class UpdateAdmin(TranslationAdmin):
    form = UpdateAdminForm
    list_display = ["title", "project", "status", "visibility", "audience", "published_at"]
    list_filter = ["status", "visibility", "audience"]
    list_select_related = ["project"]
    search_fields = ["title", "project__title"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["deliveries_summary", "who", "published_at"]
    fieldsets = [
        (None, {"fields": ["project", "title", "slug", "body"]}),
        ("Photo", {"fields": ["photo", "photo_alt", "photo_credit"]}),
        ("Progress block", {"fields": ["legal_status"]}),
        (
            "Audience and visibility",
            {"fields": ["audience", "visibility", "public_from", "status", "publish_on"]},
        ),
        ("Sent", {"fields": ["published_at", "deliveries_summary", "who"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.status == Update.Status.PUBLISHED:
            # What was emailed stays what was emailed; the text can still be corrected.
            readonly += ["project", "audience", "status", "publish_on"]
        return readonly

    def save_model(self, request: HttpRequest, obj: Update, form: Any, change: bool) -> None:
        if not change:
            obj.author = request.user  # type: ignore[assignment]
        obj.last_editor = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
        if "photo" in form.changed_data and obj.photo:
            obj.photo_renditions = {
                **renditions_build(obj.photo),
                "social": social_rendition_build(obj.photo),
            }
            obj.photo_width, obj.photo_height = obj.photo.width, obj.photo.height
            obj.save(update_fields=["photo_renditions", "photo_width", "photo_height"])

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = super().changeform_view(request, *args, **kwargs)
        response._csp_update = prose_editor_csp_update()  # type: ignore[attr-defined]  # noqa: SLF001 - django-csp's documented hook
        return response

    @admin.display(description="Who wrote it")
    def who(self, obj: Update) -> str:
        return format_html(
            "Written by {}; last edited by {}",
            obj.author or "—",
            obj.last_editor or "—",
        )

    @admin.display(description="Deliveries by status")
    def deliveries_summary(self, obj: Update) -> str:
        if not obj.pk:
            return "—"
        counts = deliveries_by_status(obj)
        url = reverse("admin:stewardship_update_publish", args=[obj.pk])
        return format_html(
            "{} queued, {} sent, {} skipped, {} failed · <a href='{}'>Preview and publish</a>",
            counts["queued"],
            counts["sent"],
            counts["skipped"],
            counts["failed"],
            url,
        )

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "<int:pk>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="stewardship_update_publish",
            ),
            path(
                "<int:pk>/preview/<str:language>/",
                self.admin_site.admin_view(self.preview_view),
                name="stewardship_update_preview",
            ),
        ]
        return own + super().get_urls()

    def preview_view(self, request: HttpRequest, pk: int, language: str) -> HttpResponse:
        """The email as a donor reads it, in one language (the publish page frames both)."""
        update = get_object_or_404(Update.objects.select_related("project"), pk=pk)
        if not self.has_view_permission(request, update):
            raise PermissionDenied
        if language not in dict(settings.LANGUAGES):
            language = "en"
        message = update_message(
            update,
            email=getattr(request.user, "email", "") or "you@example.org",
            language=language,
            message_key="preview",
            test=True,
        )
        html = str(message.alternatives[0][0]) if message.alternatives else message.body
        response = HttpResponse(html)
        response["Content-Security-Policy"] = (
            "default-src 'none'; img-src * data:; style-src 'unsafe-inline'"
        )
        return response

    def publish_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        update = get_object_or_404(Update.objects.select_related("project"), pk=pk)
        if not self.has_change_permission(request, update):
            raise PermissionDenied
        audience = selectors.audience_count(update.project)
        count = audience.total if update.audience == Update.Audience.DONORS else 0
        needs_second = count > settings.UPDATE_EMAILS.confirm_above
        form = PublishForm(request.POST or None)
        here = reverse("admin:stewardship_update_publish", args=[pk])
        if request.method == "POST" and "test" in request.POST:
            to = request.user.email  # type: ignore[union-attr]
            if not to:
                messages.error(request, "Your staff account has no email address to send to.")
            else:
                sent = test_send(update=update, to=to)
                messages.success(request, f"{sent} test email sent to {to}.")
            return HttpResponseRedirect(here)
        if request.method == "POST" and form.is_valid():
            if needs_second and not (
                form.cleaned_data["confirmed"] and form.cleaned_data["confirm_count"] == count
            ):
                messages.error(request, f"Tick the second confirmation to email {count} donors.")
            else:
                try:
                    done = update_publish(update_id=pk, fan_out=fan_out_start, user=request.user)
                except PublishRefused as exc:
                    messages.error(request, str(exc))
                    return HttpResponseRedirect(here)
                if done.already:
                    messages.warning(request, "This update was already published.")
                else:
                    messages.success(request, f"Published; {done.queued} emails queued.")
                return HttpResponseRedirect(reverse("admin:stewardship_update_change", args=[pk]))
        show_addresses = request.user.has_perm(CONTACT_PERMISSION)
        deliveries = Delivery.objects.filter(update=update).order_by("id")[:DELIVERIES_SHOWN]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview and publish: {update.title}",
            "update": update,
            "opts": self.model._meta,
            "audience": audience,
            "count": count,
            "needs_second": needs_second,
            "threshold": settings.UPDATE_EMAILS.confirm_above,
            "form": form,
            "counts": deliveries_by_status(update),
            "deliveries": deliveries if show_addresses else [],
            "show_addresses": show_addresses,
            "languages": settings.LANGUAGES,
            "published": update.status == Update.Status.PUBLISHED,
        }
        return TemplateResponse(request, "admin/stewardship/publish.html", context)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Who was emailed: status and language for all who may see updates; the address only
    for those who may see donor contact details."""

    list_display = ["update", "status", "skip_reason", "language", "sent_at"]
    list_filter = ["status", "skip_reason", "language"]
    list_select_related = ["update"]
    show_full_result_count = False

    def get_list_display(self, request: HttpRequest) -> Any:
        shown = list(super().get_list_display(request))
        return ["email", *shown] if request.user.has_perm(CONTACT_PERMISSION) else shown

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["update", "status", "skip_reason", "language", "error", "sent_at"]
        return ["email", *fields] if request.user.has_perm(CONTACT_PERMISSION) else fields

    def get_search_fields(self, request: HttpRequest) -> Any:
        return ["=email"] if request.user.has_perm(CONTACT_PERMISSION) else []

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ProjectWithUpdatesAdmin(ProjectAdmin):
    """The projects list with "days since the last update", warning past 90 days."""

    def get_list_display(self, request: HttpRequest) -> Any:
        return [*super().get_list_display(request), "days_since_update"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Project]:
        return super().get_queryset(request).annotate(last_update_at=Max("updates__published_at"))

    @admin.display(description="Days since the last update", ordering="last_update_at")
    def days_since_update(self, obj: Project) -> str:
        last = getattr(obj, "last_update_at", None)
        if last is None:
            return format_html(
                '<span class="update-stale" title="{}">⚠ {}</span>', "No update yet", "never"
            )
        days = (timezone.now() - last).days
        if days > STALE_DAYS:
            return format_html(
                '<span class="update-stale" title="More than {} days: donors hear nothing">⚠ {}</span>',
                STALE_DAYS,
                days,
            )
        return str(days)


admin.site.unregister(Project)
admin.site.register(Project, ProjectWithUpdatesAdmin)
