"""Which project texts lack a translation (shown to editors in the admin)."""

from __future__ import annotations

from django.db import models
from modeltranslation.translator import translator

from projects.models import Project


def _missing(obj: models.Model, language: str, label: str) -> list[str]:
    options = translator.get_options_for_model(type(obj))
    missing = []
    for field in options.all_fields:
        english = getattr(obj, f"{field}_en", None)
        translated = getattr(obj, f"{field}_{language}", None)
        if english and not translated:
            verbose = getattr(type(obj)._meta.get_field(field), "verbose_name", field)
            missing.append(f"{label}{verbose}")
    return missing


def missing_translations(project: Project, language: str, *, related: bool = True) -> list[str]:
    """The texts of a project (and, with ``related``, of its species, threats, sections and
    photos) that have English but no ``language`` version, as "Section “Threats”: lead"."""
    missing = _missing(project, language, "")
    if not related:
        return missing
    for species in project.species.all():
        missing += _missing(species, language, f"Species “{species.common_name}”: ")
    for threat in project.threats.all():
        missing += _missing(threat, language, f"Threat “{threat.title}”: ")
    for section in project.sections.all():
        missing += _missing(section, language, f"Section “{section.title}”: ")
    for photo in project.photos.all():
        missing += _missing(photo, language, f"Photo “{photo.caption or photo.alt_text}”: ")
    return missing
