"""Updates as search engines and link previews read them (as projects/seo.py for projects)."""

from __future__ import annotations

from typing import Any

from django.utils.html import strip_tags

from projects.seo import (
    SOCIAL_DESCRIPTION_LIMIT,
    PageMeta,
    _project_image,
    absolute_url,
    media_absolute_url,
    organisation_json_ld,
    text_excerpt,
)
from projects.services.images import SOCIAL_SIZE
from stewardship.models import Update


def update_meta(update: Update) -> PageMeta:
    """The update's page: its own photo's 1200x630 card, else the project's."""
    social = (update.photo_renditions or {}).get("social")
    image: dict[str, Any]
    if update.photo and isinstance(social, str):
        image = {
            "image": media_absolute_url(social),
            "image_width": SOCIAL_SIZE[0],
            "image_height": SOCIAL_SIZE[1],
            "image_alt": update.photo_alt or update.title,
            "image_type": "image/jpeg",
        }
    else:
        image = _project_image(update.project)
    text = strip_tags(update.body)
    url = absolute_url(update.get_absolute_url())
    article = {
        "@type": "NewsArticle",
        "@id": f"{url}#update",
        "headline": update.title,
        "url": url,
        "image": [image["image"]],
        "datePublished": update.published_at.isoformat() if update.published_at else "",
        "about": {"@id": absolute_url(update.project.get_absolute_url()) + "#project"},
        "publisher": {"@id": absolute_url("/#organization")},
    }
    return PageMeta(
        title=f"{update.title} · {update.project.title}",
        description=text_excerpt(text),
        canonical=url,
        social_description=text_excerpt(text, SOCIAL_DESCRIPTION_LIMIT),
        og_type="article",
        robots="" if update.is_public() else "noindex",
        json_ld={"@context": "https://schema.org", "@graph": [organisation_json_ld(), article]},
        **image,
    )
