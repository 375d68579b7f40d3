"""What search engines and link previews read: meta description, canonical URL, Open Graph
and Twitter card tags, and schema.org JSON-LD (the charity as an NGO, each project).

Absolute URLs are built on ``settings.SITE_URL`` (the public origin), not on the request's
Host header, so every copy of a page names one canonical address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext

from projects.formatting import money_format, number_format

if TYPE_CHECKING:
    from projects.models import Project
    from projects.selectors import Funding

DESCRIPTION_LIMIT = 160  # what search results show before they cut
SOCIAL_DESCRIPTION_LIMIT = 200
DEFAULT_SOCIAL_IMAGE = ("img/social-default.png", 1200, 630)


def absolute_url(path: str) -> str:
    """``path`` on the public origin; an already absolute URL (a CDN's) is kept."""
    if re.match(r"^https?://", path):
        return path
    return settings.SITE_URL.rstrip("/") + "/" + path.lstrip("/")


def media_absolute_url(name: str) -> str:
    return absolute_url(f"{settings.MEDIA_URL}{name}")


def text_excerpt(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """The start of ``text`` (its first paragraph), cut cleanly to at most ``limit``
    characters: at the end of a sentence when one ends in the second half of the limit,
    otherwise after a whole word, with an ellipsis. Never in the middle of a word."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text or "") if p.strip()]
    flat = re.sub(r"\s+", " ", paragraphs[0] if paragraphs else "").strip()
    if len(flat) <= limit:
        return flat
    window = flat[: limit + 1]
    sentence_ends = [m.end() for m in re.finditer(r"[.!?](?=\s)", window) if m.end() <= limit]
    if sentence_ends and sentence_ends[-1] >= limit // 2:
        return flat[: sentence_ends[-1]]
    cut = window[:limit].rsplit(" ", 1)[0] if " " in window[:limit] else window[: limit - 1]
    return cut.rstrip(" ,;:–—-") + "…"


@dataclass(frozen=True)
class PageMeta:
    """The head of a page as search engines and link previews read it."""

    title: str
    description: str
    canonical: str = ""
    social_description: str = ""
    og_type: str = "website"
    image: str = ""
    image_width: int = 0
    image_height: int = 0
    image_alt: str = ""
    image_type: str = "image/jpeg"
    # Twitter card label/data pairs (Slack and others show them under the preview).
    labels: tuple[tuple[str, str], ...] = ()
    robots: str = ""  # e.g. "noindex" for pages that are not for search results
    json_ld: dict[str, Any] = field(default_factory=dict)

    @property
    def social(self) -> str:
        return self.social_description or self.description


def organisation_json_ld() -> dict[str, Any]:
    """The charity as a schema.org NGO, with its registration number from settings."""
    node: dict[str, Any] = {
        "@type": "NGO",
        "@id": absolute_url("/#organization"),
        "name": settings.ORGANISATION_NAME,
        "url": absolute_url("/"),
        "description": settings.ORGANISATION_DESCRIPTION,
        "logo": absolute_url(static("img/icon-512.png")),
    }
    if settings.ORGANISATION_REGISTRATION_NUMBER:
        node["identifier"] = {
            "@type": "PropertyValue",
            "propertyID": settings.ORGANISATION_REGISTRATION_SCHEME,
            "value": settings.ORGANISATION_REGISTRATION_NUMBER,
        }
    return node


def _default_image() -> dict[str, Any]:
    path, width, height = DEFAULT_SOCIAL_IMAGE
    return {
        "image": absolute_url(static(path)),
        "image_width": width,
        "image_height": height,
        "image_alt": settings.ORGANISATION_NAME,
        "image_type": "image/png",
    }


def site_meta(*, title: str, path: str, description: str = "", robots: str = "") -> PageMeta:
    """A page that is not a project's: the organisation's description and social image."""
    return PageMeta(
        title=title,
        description=description or settings.ORGANISATION_DESCRIPTION,
        canonical=absolute_url(path),
        robots=robots,
        json_ld={"@context": "https://schema.org", "@graph": [organisation_json_ld()]},
        **_default_image(),
    )


def _project_image(project: Project) -> dict[str, Any]:
    social = (project.hero_renditions or {}).get("social")
    if project.hero_image and isinstance(social, str):
        from projects.services.images import SOCIAL_SIZE

        return {
            "image": media_absolute_url(social),
            "image_width": SOCIAL_SIZE[0],
            "image_height": SOCIAL_SIZE[1],
            "image_alt": project.hero_alt or project.title,
            "image_type": "image/jpeg",
        }
    return _default_image()


def funding_sentence(project: Project, funding: Funding) -> str:
    """ "$12,400 raised of $303,600 to protect 285,288 acres in Kosñipata Valley, Peru." """
    return gettext("%(raised)s raised of %(cost)s to protect %(acres)s acres in %(place)s.") % {
        "raised": money_format(funding.raised),
        "cost": money_format(funding.cost),
        "acres": number_format(project.acres),
        "place": project.location_display,
    }


def project_json_ld(project: Project) -> dict[str, Any]:
    """The project as a schema.org Project of the NGO: name, description, image, location
    and the amount it seeks (a Demand priced at the project's cost)."""
    url = absolute_url(project.get_absolute_url())
    address = {
        "@type": "PostalAddress",
        "addressLocality": project.place,
        "addressRegion": project.region,
        "addressCountry": project.country,
    }
    place: dict[str, Any] = {
        "@type": "Place",
        "name": project.location_display,
        "address": {k: v for k, v in address.items() if v},
    }
    if project.latitude is not None and project.longitude is not None:
        place["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": str(project.latitude),
            "longitude": str(project.longitude),
        }
    images = [_project_image(project)["image"]]
    if project.hero_image:
        images.append(media_absolute_url(str(project.hero_image.name)))
    return {
        "@type": "Project",
        "@id": f"{url}#project",
        "name": project.title,
        "description": text_excerpt(project.summary, 500),
        "url": url,
        "image": images,
        "location": place,
        "parentOrganization": {"@id": absolute_url("/#organization")},
        "seeks": {
            "@type": "Demand",
            "name": gettext("Funding to protect %(acres)s acres")
            % {"acres": number_format(project.acres)},
            "priceSpecification": {
                "@type": "PriceSpecification",
                "price": str(project.cost.amount),
                "priceCurrency": project.currency,
            },
        },
        "potentialAction": {
            "@type": "DonateAction",
            "target": f"{url}#donate",
            "recipient": {"@id": absolute_url("/#organization")},
        },
    }


def project_meta(project: Project, funding: Funding, *, path: str = "") -> PageMeta:
    """A project's page (or another view of it, at ``path``, e.g. the fact sheet)."""
    sentence = funding_sentence(project, funding)
    summary = text_excerpt(project.summary, SOCIAL_DESCRIPTION_LIMIT - len(sentence) - 1)
    return PageMeta(
        title=project.title,
        description=text_excerpt(project.summary),
        canonical=absolute_url(path or project.get_absolute_url()),
        social_description=f"{sentence} {summary}".strip(),
        og_type="article",
        labels=(
            ("Raised", f"{money_format(funding.raised)} of {money_format(funding.cost)}"),
            ("Price per acre", money_format(project.price_per_acre)),
        ),
        robots="" if project.status == project.Status.PUBLISHED else "noindex",
        json_ld={
            "@context": "https://schema.org",
            "@graph": [organisation_json_ld(), project_json_ld(project)],
        },
        **_project_image(project),
    )


def project_list_meta(projects: list[Project]) -> PageMeta:
    meta = site_meta(
        title=f"Projects · {settings.ORGANISATION_NAME}",
        path=reverse("projects:list"),
        description=text_excerpt(
            f"Protect land for wildlife: {len(projects)} conservation "
            f"project{'s' if len(projects) != 1 else ''} of {settings.ORGANISATION_NAME} "
            "to give to. " + settings.ORGANISATION_DESCRIPTION
        ),
    )
    items = {
        "@type": "ItemList",
        "itemListElement": [
            {
                "@type": "ListItem",
                "position": n,
                "url": absolute_url(p.get_absolute_url()),
                "name": p.title,
            }
            for n, p in enumerate(projects, start=1)
        ],
    }
    graph = [*meta.json_ld["@graph"], items]
    return replace(meta, json_ld={**meta.json_ld, "@graph": graph})
