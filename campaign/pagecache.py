"""The whole-page cache for anonymous visitors of the public pages.

``@public_page`` wraps a view (project list, project page, fact sheet). For a GET without a
query string from a visitor without a session, the rendered page is kept in the shared
cache under a key made of the page's versions (``projects.PageVersion``, moved by database
triggers in the same transaction as any change a public page shows: totals, content, pools),
the language, the host and the path. Versions are per page: a project's page is keyed by the
site's version and its project's (``versions=`` names the reader, e.g.
``projects.selectors.project_page_versions``), so a gift to one project leaves the other
projects' pages cached; the list by the site's version and the sum of every project's,
read in one statement (versions only grow, so the sum moves with every change the list
shows and never comes back to an earlier value). A hit costs one indexed read and one cache
read, whatever the number of gifts. Because the versions are read from the database,
nothing has to remember to invalidate: bulk updates and raw SQL move them too.

The guarantee: a reader who sees new data never gets an older page. The versions are read
before the page renders, and a trigger moves them in the transaction that changes the data,
so a copy stored under a key was rendered from data at least as new as that key; a reader
whose read shows the change gets a new key, which only a newer render can fill.

The cached page is the same for every visitor, so it carries no CSRF token: while it renders,
``campaign.context_processors.page_cache`` puts an empty ``csrf_token`` in the context and
``static/js/csrf.js`` fetches the visitor's own token from ``/csrf/`` (which sets the cookie)
when the visitor first touches a form, or on submit. Without JavaScript the first post of the
donate form is refused by the CSRF check and ``donations.views.csrf_failure`` shows the form
again, filled in, with a token, so the second press goes through.

Responses from here say ``X-Accel-Expires`` (nginx's micro-cache may keep them a few seconds,
``PAGE_PROXY_CACHE_SECONDS``) and ``X-Page-Cache: hit|miss``. Pages for a visitor with a
session (staff previews, anyone logged in) are never cached, here or by nginx.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from http import HTTPStatus
from typing import Any, overload

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.module_loading import import_string

SITE_VERSION_SQL = "SELECT version FROM projects_pageversion WHERE scope = 0"
# The list: the site's version and the sum of every project's, from one snapshot.
LIST_VERSION_SQL = (
    "SELECT COALESCE(MAX(version) FILTER (WHERE scope = 0), 0), "
    "COALESCE(SUM(version) FILTER (WHERE scope <> 0), 0) FROM projects_pageversion"
)
# Headers the view set that belong to the page itself (the middleware adds the others on the
# way out, for hits and misses alike).
KEPT_HEADERS = {"content-type", "content-language", "link"}
FILLING = "_page_cache_filling"


# Reads the versions a page is keyed by: (request, the view's kwargs) -> a key part.
VersionReader = Callable[[HttpRequest, dict[str, Any]], str]


def _fetch(sql: str, params: list[Any] | None = None) -> tuple[Any, ...] | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        row = cursor.fetchone()
    return tuple(row) if row else None


def site_versions(request: HttpRequest, kwargs: dict[str, Any]) -> str:
    """For a page that shows only what every page shows (e.g. how your gift is used)."""
    row = _fetch(SITE_VERSION_SQL)
    return f"s{row[0] if row else 0}"


def list_versions(request: HttpRequest, kwargs: dict[str, Any]) -> str:
    """For a page that shows every project (the list)."""
    row = _fetch(LIST_VERSION_SQL)
    site, projects = row if row else (0, 0)
    return f"s{site}.all{projects}"


def is_filling(request: HttpRequest) -> bool:
    """True while a page meant for every anonymous visitor is being rendered."""
    return bool(getattr(request, FILLING, False))


def _cacheable_request(request: HttpRequest) -> bool:
    if settings.PAGE_CACHE_SECONDS <= 0 or request.method != "GET":
        return False
    if request.META.get("QUERY_STRING"):
        return False  # e.g. the calculator's ?gift=: rendered every time, not a key per value
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and "messages" not in cookies


def _key(request: HttpRequest, version: str) -> str:
    language = getattr(request, "LANGUAGE_CODE", None) or translation.get_language() or ""
    where = hashlib.sha256(f"{request.get_host()}{request.path}".encode()).hexdigest()[:32]
    return f"page:{version}:{language}:{where}"


def _timeout(now: datetime) -> int:
    """PAGE_CACHE_SECONDS, or less when something a page shows changes with the clock alone
    (a matching pool opening or closing): each PAGE_CACHE_EXPIRY hook names that moment."""
    seconds = settings.PAGE_CACHE_SECONDS
    for path in settings.PAGE_CACHE_EXPIRY:
        moment = import_string(path)(now)
        if moment is not None:
            seconds = min(seconds, max(1, int((moment - now).total_seconds()) + 1))
    return int(seconds)


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    if response.status_code != HTTPStatus.OK or response.streaming or response.cookies:
        return False
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return False  # something rendered a real token: this copy is one visitor's
    control = response.get("Cache-Control", "").lower()
    return not any(word in control for word in ("private", "no-store", "no-cache"))


def _mark_public(response: HttpResponse, state: str) -> HttpResponse:
    response["X-Page-Cache"] = state
    response["X-Accel-Expires"] = str(settings.PAGE_PROXY_CACHE_SECONDS)
    patch_cache_control(response, public=True, max_age=0)
    return response


View = Callable[..., HttpResponse]


@overload
def public_page(view: View) -> View: ...
@overload
def public_page(*, versions: VersionReader) -> Callable[[View], View]: ...
def public_page(
    view: View | None = None, *, versions: VersionReader = site_versions
) -> View | Callable[[View], View]:
    """``@public_page`` (keyed by the site's version) or ``@public_page(versions=...)``."""
    if view is None:
        return lambda inner: _cached(inner, versions)
    return _cached(view, versions)


def _cached(view: View, versions: VersionReader) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _cacheable_request(request):
            return view(request, *args, **kwargs)
        # No session cookie: the visitor is anonymous. Saying so without opening the session
        # keeps "Vary: Cookie" off the response, so nginx can share it too.
        request.user = AnonymousUser()
        setattr(request, FILLING, True)
        key = _key(request, versions(request, kwargs))
        entry = cache.get(key)
        if entry is not None:
            status, headers, content = entry
            response = HttpResponse(content, status=status)
            for name, value in headers:
                response[name] = value
            return _mark_public(response, "hit")
        response = view(request, *args, **kwargs)
        if not _storable(request, response):
            return response
        headers = [(k, v) for k, v in response.items() if k.lower() in KEPT_HEADERS]
        cache.set(key, (response.status_code, headers, response.content), _timeout(timezone.now()))
        return _mark_public(response, "miss")

    return wrapped
