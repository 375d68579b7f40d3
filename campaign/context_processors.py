from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from campaign.js_strings import js_strings


def site(request: HttpRequest) -> dict[str, object]:
    from projects.seo import site_meta

    return {
        "ORGANISATION_NAME": settings.ORGANISATION_NAME,
        "ORGANISATION_REGISTRATION": settings.ORGANISATION_REGISTRATION,
        "ORGANISATION_TWITTER": settings.ORGANISATION_TWITTER,
        "TEST_PAYMENTS": settings.PAYMENT_PROVIDER == "test",
        # Pages that pass no `meta` of their own describe the organisation.
        "meta": SimpleLazyObject(
            lambda: site_meta(title=settings.ORGANISATION_NAME, path=request.path)
        ),
        "language_alternates": language_alternates(request),
        "js_strings": js_strings(),
    }


def page_cache(request: HttpRequest) -> dict[str, object]:
    """While a page shared by every anonymous visitor renders, no visitor's CSRF token goes
    in it (static/js/csrf.js fetches each visitor's own): see campaign/pagecache.py."""
    from campaign.pagecache import is_filling

    return {"csrf_token": ""} if is_filling(request) else {}


def language_alternates(request: HttpRequest) -> list[dict[str, object]]:
    """This page in each language: for the switcher and the hreflang alternates.

    A URL outside the translated patterns (the admin) keeps its own path in every language."""
    current = translation.get_language()
    path = request.get_full_path()
    alternates = []
    for code, name in settings.LANGUAGES:
        url = translate_url(path, code)
        alternates.append(
            {
                "code": code,
                "name": name,
                "url": request.build_absolute_uri(url),
                "path": url,
                "current": code == current,
            }
        )
    return alternates
