"""The page nginx shows when no app node answers (campaign/nginx.conf's error_page): the
site's own templates/503.html, rendered once, by collectstatic, into STATIC_ROOT, with the
static names of that build (hashed in production)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from campaign.js_strings import js_strings

UNAVAILABLE = Path("errors") / "503.html"


def unavailable_page() -> str:
    """templates/503.html in the default language, without a request (no visitor, no host:
    the links are site-relative and there is no language switcher)."""
    from projects.seo import site_meta

    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(
            "503.html",
            {
                "ORGANISATION_NAME": settings.ORGANISATION_NAME,
                "ORGANISATION_REGISTRATION": settings.ORGANISATION_REGISTRATION,
                "ORGANISATION_TWITTER": settings.ORGANISATION_TWITTER,
                "TEST_PAYMENTS": False,
                "meta": site_meta(title=settings.ORGANISATION_NAME, path="/", robots="noindex"),
                "language_alternates": [],
                "js_strings": js_strings(),
            },
        )


def write_unavailable_page(static_root: Path) -> Path:
    path = Path(static_root) / UNAVAILABLE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(unavailable_page(), encoding="utf-8")
    return path
