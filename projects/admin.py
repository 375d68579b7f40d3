from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import (
    TranslationAdmin,
    TranslationStackedInline,
    TranslationTabularInline,
)

from projects.forms import (
    PRICE_OVERRIDE_TOLERANCE,
    PhotoInlineForm,
    ProjectAdminForm,
    SectionInlineForm,
)
from projects.models import FundingTotals, KeySpecies, Photo, Project, Section, Threat
from projects.selectors import project_funding
from projects.services.editor import prose_editor_csp_update
from projects.services.images import photo_renditions_refresh, project_hero_refresh
from projects.services.translations import missing_translations

# Fields whose change moves what a project's page says about money.
MONEY_FIELDS = ["cost", "acres", "price_per_acre_override", "after_goal"]


class KeySpeciesInline(TranslationTabularInline):
    model = KeySpecies
    extra = 0
    fields = ["common_name", "scientific_name", "iucn_category", "order"]


class ThreatInline(TranslationStackedInline):
    model = Threat
    extra = 0
    fields = ["title", "description", "order"]


class SectionInline(TranslationStackedInline):
    model = Section
    form = SectionInlineForm
    extra = 0
    fields = ["title", "lead", "body", "order"]


class PhotoInline(TranslationStackedInline):
    model = Photo
    form = PhotoInlineForm
    extra = 0
    fields = ["image", "preview", "caption", "credit", "alt_text", "order"]
    readonly_fields = ["preview"]

    @admin.display(description="Preview")
    def preview(self, obj: Photo) -> str:
        if not obj.pk or not obj.image:
            return "—"
        r = obj.renditions or {}
        name = (r.get("jpeg") or r.get("png") or r).get("480") or obj.image.name
        return format_html('<img src="/media/{}" alt="" style="max-width:240px">', name)


@admin.register(Project)
class ProjectAdmin(TranslationAdmin):
    form = ProjectAdminForm
    inlines = [KeySpeciesInline, ThreatInline, SectionInline, PhotoInline]
    list_display = [
        "title",
        "status",
        "cost",
        "raised",
        "percent_funded",
        "spanish",
        "published_at",
    ]
    list_filter = ["status", "country", "after_goal"]
    search_fields = ["title", "slug", "summary", "place", "country", "partner_name"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["price_check", "translation_check", "created_at", "updated_at"]
    date_hierarchy = "published_at"
    fieldsets = [
        (
            _("Translations"),
            {
                "fields": ["translation_check"],
                "description": _(
                    "Each text has an English and a Spanish box side by side. Where the "
                    "Spanish one is empty, Spanish pages show the English text."
                ),
            },
        ),
        (None, {"fields": ["title", "slug", "status", "published_at", "summary"]}),
        ("Location", {"fields": ["place", "region", "country", "latitude", "longitude"]}),
        (
            "Funding",
            {"fields": ["cost", "acres", "price_per_acre_override", "price_check", "after_goal"]},
        ),
        (
            "Fast facts",
            {
                "fields": [
                    "habitat",
                    "conservation_action",
                    "main_threat",
                    "partner_name",
                    "partner_url",
                    "carbon_storage_mt",
                ]
            },
        ),
        ("Hero photo", {"fields": ["hero_image", "hero_alt", "hero_caption", "hero_credit"]}),
        ("History", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Project]:
        return super().get_queryset(request).select_related("totals")

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        """On a save, the project row is locked (inside the admin's transaction) from the read
        of its status to the write: an editor's form read while it was a draft must not
        write "draft" over Finance's publishing a moment ago. FOR NO KEY UPDATE, so gifts
        (which reference the row) are not held up."""
        in_a_save = request.method == "POST" and transaction.get_connection().in_atomic_block
        if in_a_save and from_field is None:
            # The lock on the bare row, then the admin's own read (its queryset may be
            # annotated: FOR UPDATE is not allowed with GROUP BY); the read after the lock
            # sees the latest committed row.
            try:
                pk = self.model._meta.pk.to_python(object_id)
            except (ValidationError, ValueError):
                return None
            list(Project.objects.select_for_update(no_key=True).filter(pk=pk).values_list("pk"))
        return super().get_object(request, object_id, from_field)

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]  # change= travels in kwargs
        form = super().get_form(request, obj, **kwargs)
        # Archiving or unpublishing a live project closes its giving: Finance's, not Editors'.
        # (modelform_factory made this class for this request: setting it here is safe.)
        form.may_close = request.user.has_perm("projects.close_project")  # type: ignore[attr-defined]
        return form

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Deleting a published project closes its giving too; the changelist's bulk delete
        asks here for each project it would delete."""
        if (
            obj is not None
            and obj.status == Project.Status.PUBLISHED
            and not request.user.has_perm("projects.close_project")
        ):
            return False
        return super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """The money figures of an existing project are Finance's (and superusers'): read-only
        to Editors, who keep every other field. A new project is entered whole, figures
        included, by whoever creates it (nothing has been given to it yet)."""
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not request.user.has_perm("projects.change_project_money"):
            readonly += MONEY_FIELDS
        return readonly

    @admin.display(description=_("Spanish"))
    def spanish(self, obj: Project) -> str:
        missing = missing_translations(obj, "es", related=False)
        return str(_("complete")) if not missing else str(_("%(n)d missing")) % {"n": len(missing)}

    @admin.display(description=_("Spanish translation"))
    def translation_check(self, obj: Project) -> str:
        if not obj.pk:
            return str(_("Shown once the project is saved."))
        missing = missing_translations(obj, "es")
        if not missing:
            return str(_("Every text has its Spanish translation."))
        return format_html(
            '<strong style="color:#8a4b00">{}</strong><ul>{}</ul>',
            _("Missing in Spanish: Spanish pages show the English text for these."),
            format_html_join("", "<li>{}</li>", ((m,) for m in missing)),
        )

    @admin.display(description="Raised")
    def raised(self, obj: Project) -> str:
        return str(project_funding(obj).raised)

    @admin.display(description="% funded")
    def percent_funded(self, obj: Project) -> str:
        return f"{project_funding(obj).percent:.0f} %"

    @admin.display(description="Price per acre check")
    def price_check(self, obj: Project) -> str:
        if not obj.pk:
            return "Shown once the project is saved."
        deviation = obj.price_override_deviation
        if deviation is None:
            return f"Computed from cost ÷ acres: {obj.computed_price_per_acre}."
        text = (
            f"Override {obj.price_per_acre_override}; cost ÷ acres = "
            f"{obj.computed_price_per_acre} ({deviation:.1%} apart)."
        )
        if deviation > PRICE_OVERRIDE_TOLERANCE:
            return format_html('<strong style="color:#b00020">⚠ {}</strong>', text)
        return text

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = super().changeform_view(request, *args, **kwargs)
        # The rich-text editor's import map and Tiptap's style element are the only inline
        # code on the page: allow exactly them (by hash), not 'unsafe-inline'.
        response._csp_update = prose_editor_csp_update()  # type: ignore[attr-defined]  # noqa: SLF001 - django-csp's documented hook
        return response

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        # A form shown again after a POST was refused. Browsers never refill a file field,
        # so say plainly which chosen files were not uploaded.
        if request.method == "POST" and request.FILES:
            chosen = [f for key in request.FILES for f in request.FILES.getlist(key)]
            names = ", ".join(sorted({f.name or "" for f in chosen}))
            messages.error(
                request,
                f"Nothing was saved, so the files you chose were not uploaded ({names}). "
                "Correct the errors below, then choose the files again before saving.",
            )
        return super().render_change_form(request, context, *args, **kwargs)

    def save_model(self, request: HttpRequest, obj: Project, form: Any, change: bool) -> None:
        if obj.status == Project.Status.PUBLISHED and obj.published_at is None:
            obj.publish()
        super().save_model(request, obj, form, change)
        if "hero_image" in form.changed_data:
            project_hero_refresh(project=obj)
        deviation = obj.price_override_deviation
        if deviation is not None and deviation > PRICE_OVERRIDE_TOLERANCE:
            messages.warning(
                request,
                f"Check the price per acre: the override {obj.price_per_acre_override} differs "
                f"from cost ÷ acres = {obj.computed_price_per_acre} by {deviation:.0%}.",
            )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is Photo:
            for photo_form in formset.forms:
                photo = photo_form.instance
                if photo.pk and "image" in photo_form.changed_data:
                    photo_renditions_refresh(photo=photo)


@admin.register(FundingTotals)
class FundingTotalsAdmin(admin.ModelAdmin):
    """Read-only: totals are written only by the donations services."""

    list_display = ["project", "raised", "matched", "donor_count", "provisional", "updated_at"]
    list_select_related = ["project"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
