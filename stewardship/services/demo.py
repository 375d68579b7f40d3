"""The demo's first project update on the seed project, in English and Spanish."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model

from projects.models import Project
from stewardship.models import Update
from stewardship.services.publishing import Published, update_publish

DEMO_SLUG = "the-survey-found-the-frog"
DEMO_UPDATE = {
    "title_en": "The survey found the frog",
    "title_es": "El censo encontró la rana",
    "body_en": (
        "<p>In the first month of patrols, the rangers and our local partner's biologists "
        "surveyed the corridor's cloud forest streams, and found a breeding population of "
        "the Kosñipata frog, a species not recorded here for a decade.</p>"
        "<p>Thank you: your gift paid for the land those streams run through.</p>"
    ),
    "body_es": (
        "<p>En el primer mes de patrullaje, los guardaparques y los biólogos de nuestro socio "
        "local recorrieron los arroyos del bosque nublado del corredor y encontraron una "
        "población reproductora de la rana de Kosñipata, una especie que no se registraba "
        "aquí desde hacía una década.</p>"
        "<p>Gracias: su donativo pagó la tierra por la que corren esos arroyos.</p>"
    ),
    "legal_status_en": "Decree signed by the regional government",
    "legal_status_es": "Decreto firmado por el gobierno regional",
}


def demo_update_publish(
    *, project: Project, fan_out: Callable[[int], object] | None = None
) -> Published:
    """Create (or refresh the draft of) the demo update and publish it to the project's
    donors; publishing twice emails nobody twice."""
    author = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    update, _created = Update.objects.get_or_create(
        project=project,
        slug=DEMO_SLUG,
        defaults={**DEMO_UPDATE, "author": author, "audience": Update.Audience.DONORS},
    )
    if update.status != Update.Status.PUBLISHED:
        for name, value in DEMO_UPDATE.items():
            setattr(update, name, value)
        update.save()
    return update_publish(update_id=update.pk, fan_out=fan_out)
