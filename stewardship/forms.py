from __future__ import annotations

from typing import Any

from django import forms
from django_prose_editor.widgets import AdminProseEditorWidget

from projects.forms import SECTION_EDITOR_EXTENSIONS, PhotoUploadField, translated_boxes_dress
from stewardship.models import Update

RESERVED_SLUGS = {"feed"}  # /projects/<slug>/updates/feed/ is the project's Atom feed


class UpdateAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    photo = PhotoUploadField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        translated_boxes_dress(self)

    class Meta:
        model = Update
        fields = [
            "project",
            "title",
            "slug",
            "body",
            "photo",
            "photo_alt",
            "photo_credit",
            "legal_status",
            "audience",
            "visibility",
            "public_from",
            "status",
            "publish_on",
        ]
        widgets = {
            "body": AdminProseEditorWidget(config={"extensions": SECTION_EDITOR_EXTENSIONS}),
        }

    def clean_slug(self) -> str:
        slug = str(self.cleaned_data["slug"])
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError(f"“{slug}” is taken by the feed's address.")
        return slug

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("visibility") == Update.Visibility.DONORS and not data.get("public_from"):
            self.add_error("public_from", "A donors-only update needs the date it turns public.")
        if data.get("status") == Update.Status.PUBLISHED and (
            self.instance.pk is None or self.instance.status != Update.Status.PUBLISHED
        ):
            self.add_error("status", "Publish from the update's “Preview and publish” page.")
        if data.get("status") == Update.Status.SCHEDULED and not data.get("publish_on"):
            self.add_error("publish_on", "A scheduled update needs its publishing date.")
        return data


class PublishForm(forms.Form):
    confirm_count = forms.IntegerField(required=False, widget=forms.HiddenInput)
    confirmed = forms.BooleanField(
        required=False, label="Yes, email all of these donors (a second confirmation)"
    )
