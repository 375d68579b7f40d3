from __future__ import annotations

import copy
import re
from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django_prose_editor.widgets import AdminProseEditorWidget

from projects.formatting import number_format
from projects.models import FundingTotals, Photo, Project, Section
from projects.services.images import image_clean

PRICE_OVERRIDE_TOLERANCE = Decimal("0.05")


class PhotoUploadField(forms.FileField):
    """A file field that accepts only safe, decodable images and returns a clean copy.

    Not forms.ImageField: that one answers every problem with the same generic message; an
    editor deserves to know whether the file was too big, a bomb, truncated or not an image.
    """

    def to_python(self, data: Any) -> Any:
        uploaded = super().to_python(data)
        if isinstance(uploaded, UploadedFile):
            return image_clean(uploaded, name=uploaded.name or "photo").content
        return uploaded


CURRENCY_LOCKED_MESSAGE = "The currency cannot change once the project has gifts or matching pools."


def project_has_money_in_its_currency(project: Project) -> bool:
    """Whether figures are already held in the project's currency: any gift (whatever its
    status), a matching pool naming the project, or non-zero totals. Changing the currency
    then would relabel those sums and stop the pools matching (they match in their own
    currency only). A pool covering all projects does not lock a project by itself: it
    already matches only the projects in its currency."""
    if project.donations.exists() or project.matching_pools.exists():
        return True
    return FundingTotals.objects.filter(project=project).exclude(raised=0, matched=0).exists()


CREDIT_HELP = (
    "Only the photographer or source, e.g. “Michell Leon/PRONATURALEZA”: the page adds "
    "“Photo courtesy of” itself (a credit that already starts with “Photo courtesy of” or "
    "“©” is shown as typed)."
)


def translated_boxes_dress(form: forms.ModelForm) -> None:  # type: ignore[type-arg]
    """A translated text has a box per language (summary_en, summary_es): each gets the
    help text and widget the form's Meta gives the field by its own name."""
    meta = getattr(form, "Meta", None)
    help_texts = getattr(meta, "help_texts", None) or {}
    widgets = getattr(meta, "widgets", None) or {}
    for name in set(help_texts) | set(widgets):
        for code, _language in settings.LANGUAGES:
            field = form.fields.get(f"{name}_{code}")
            if field is None:
                continue
            if name in help_texts:
                field.help_text = help_texts[name]
            if name in widgets:
                widget = copy.deepcopy(widgets[name])
                widget.is_required = field.required
                field.widget = widget


CLOSE_REFUSED_MESSAGE = (
    "Only Finance or an administrator can archive or unpublish a published project: it stops "
    "the project taking gifts. Leave it published, or ask Finance."
)


class ProjectAdminForm(forms.ModelForm):
    hero_image = PhotoUploadField(required=False, label="Hero photo")
    # Whether this user may take a published project out of publication (the admin sets it
    # from the projects.close_project permission); refused unless told otherwise.
    may_close: ClassVar[bool] = False

    class Meta:
        model = Project
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets choose what is shown
        # Here rather than on the model: help texts for editors, no migration for wording.
        help_texts = {
            "summary": "Plain text shown at the top of the page. Separate paragraphs with a "
            "blank line (press Enter twice).",
            "published_at": "Filled in automatically the first time the project is published; "
            "the projects list is ordered by it (newest first). Leave it empty on a draft, or "
            "set it to back-date a project.",
            "habitat": "Fast facts. The main habitats, e.g. “Cloud forest and puna grassland”.",
            "conservation_action": "Fast facts. What the money does, e.g. “Designation of a "
            "new regional reserve”.",
            "main_threat": "Fast facts. The main threat in a few words, e.g. “Illegal gold "
            "mining”.",
            "partner_name": "Fast facts. The local organisation doing the work.",
            "partner_url": "Fast facts. The partner's website (linked from the page).",
            "carbon_storage_mt": "Fast facts. Carbon stored in the area, in million tonnes "
            "of CO2; leave empty if unknown.",
            "hero_caption": "One sentence about the photo, shown under it.",
            "hero_credit": CREDIT_HELP,
            "hero_alt": "What the photo shows, for people who cannot see it (required with a "
            "photo).",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The currency as stored, before construct_instance() copies the posted values over.
        self._stored_currency = self.instance.currency if self.instance.pk else None
        self._stored_status = self.instance.status if self.instance.pk else None
        translated_boxes_dress(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        cost, override = data.get("cost"), data.get("price_per_acre_override")
        if (
            cost is not None
            and self._stored_currency is not None
            and str(cost.currency) != self._stored_currency
            and project_has_money_in_its_currency(self.instance)
        ):
            self.add_error("cost", CURRENCY_LOCKED_MESSAGE)
        if cost is not None and override is not None and override.currency != cost.currency:
            self.add_error(
                "price_per_acre_override", "The price per acre must be in the cost's currency."
            )
        if cost is not None and cost.amount <= 0:
            self.add_error("cost", "The cost must be more than zero.")
        status = data.get("status")
        if (
            self._stored_status == Project.Status.PUBLISHED
            and status not in {None, Project.Status.PUBLISHED}
            and not self.may_close
        ):
            self.add_error("status", CLOSE_REFUSED_MESSAGE)
        # The admin edits each language's alt text (hero_alt_en, hero_alt_es); English is the
        # one every page falls back to.
        alt_field = "hero_alt_en" if "hero_alt_en" in self.fields else "hero_alt"
        if data.get("hero_image") and not data.get(alt_field):
            self.add_error(alt_field, "Describe the hero photo for people who cannot see it.")
        return data

    def price_override_warning(self) -> str | None:
        """A warning, not an error: the seed page itself publishes $1.17 against $1.06."""
        instance: Project = self.instance
        deviation = instance.price_override_deviation if instance.pk else None
        if deviation is not None and deviation > PRICE_OVERRIDE_TOLERANCE:
            return (
                f"The price per acre override {instance.price_per_acre_override} differs from "
                f"cost ÷ acres = {instance.computed_price_per_acre} by {deviation:.0%}."
            )
        return None


# What the section editor offers: exactly the formatting html_sanitize keeps (nh3 still
# cleans every body on save and on render).
SECTION_EDITOR_EXTENSIONS: dict[str, Any] = {
    "Bold": True,
    "Italic": True,
    "Underline": True,
    "Subscript": True,
    "Superscript": True,
    "Heading": {"levels": [3, 4]},
    "BulletList": True,
    "OrderedList": True,
    "ListItem": True,
    "Blockquote": True,
    "HardBreak": True,
    "Link": {"enableTarget": False, "protocols": ["http", "https", "mailto"]},
    "History": True,
}


class SectionInlineForm(forms.ModelForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        translated_boxes_dress(self)

    class Meta:
        model = Section
        fields = ["title", "lead", "body", "order"]
        widgets = {
            "body": AdminProseEditorWidget(config={"extensions": SECTION_EDITOR_EXTENSIONS}),
        }
        help_texts = {
            "body": "The text shown under “Read more”. Bold, italics, headings, lists, quotes "
            "and links; anything else (scripts, styles, pasted formatting) is removed on save.",
        }


class PhotoInlineForm(forms.ModelForm):
    image = PhotoUploadField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        translated_boxes_dress(self)

    class Meta:
        model = Photo
        fields = ["image", "caption", "credit", "alt_text", "order"]
        help_texts = {"credit": CREDIT_HELP}


CALCULATOR_MIN = Decimal("1")
CALCULATOR_MAX = Decimal("10000000")


class AcresCalculatorForm(forms.Form):
    """The gift-to-acres calculator; a GET form so it works without JavaScript, and what
    acres.json answers project.js with: its messages are the only ones either shows."""

    gift = forms.CharField(max_length=30)

    def clean_gift(self) -> Decimal:
        raw = self.cleaned_data["gift"].strip().replace(",", "")
        raw = raw.removeprefix("$").strip()
        if not re.fullmatch(r"\d+(\.\d{1,2})?|\.\d{1,2}", raw):
            raise forms.ValidationError(_("Enter an amount in numbers, such as 50 or 25.50."))
        gift = Decimal(raw)
        if gift < CALCULATOR_MIN:
            raise forms.ValidationError(_("Enter an amount of at least 1."))
        if gift > CALCULATOR_MAX:
            raise forms.ValidationError(
                _("Enter an amount of at most %(max)s.") % {"max": number_format(CALCULATOR_MAX)}
            )
        return gift
