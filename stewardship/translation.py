"""Update texts in every language, as project texts (projects/translation.py)."""

from modeltranslation.translator import TranslationOptions, register

from stewardship.models import Update


@register(Update)
class UpdateTranslation(TranslationOptions):
    fields = ("title", "body", "photo_alt", "legal_status")
    required_languages = ("en",)
