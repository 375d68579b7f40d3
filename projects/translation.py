"""Which project texts exist in every language (django-modeltranslation).

Each field listed gets a column per language (``title_en``, ``title_es``); reading
``project.title`` gives the active language's text, or the English one where the
translation is empty. Proper names (place, partner, credits, scientific names) are not
translated.
"""

from modeltranslation.translator import TranslationOptions, register

from projects.models import KeySpecies, Photo, Project, Section, Threat


@register(Project)
class ProjectTranslation(TranslationOptions):
    fields = (
        "title",
        "summary",
        "country",
        "habitat",
        "conservation_action",
        "main_threat",
        "hero_alt",
        "hero_caption",
    )
    required_languages = ("en",)


@register(KeySpecies)
class KeySpeciesTranslation(TranslationOptions):
    fields = ("common_name",)
    required_languages = ("en",)


@register(Threat)
class ThreatTranslation(TranslationOptions):
    fields = ("title", "description")
    required_languages = ("en",)


@register(Section)
class SectionTranslation(TranslationOptions):
    fields = ("title", "lead", "body")
    required_languages = ("en",)


@register(Photo)
class PhotoTranslation(TranslationOptions):
    fields = ("caption", "alt_text")
    required_languages = ("en",)
