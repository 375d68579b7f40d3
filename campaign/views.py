from __future__ import annotations

import logging
import sys
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import InterfaceError, OperationalError, connection
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils.cache import patch_cache_control
from django.views import defaults
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET
from django.views.static import serve

from campaign.pagecache import public_page

logger = logging.getLogger(__name__)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness: 200 when the database and the cache answer, else 503."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is a failed check
        logger.warning("healthz database check failed: %s", exc)
        checks["database"] = f"error: {type(exc).__name__}"
    checks["cache"] = "ok"
    for alias in settings.CACHES:  # the page cache swallows errors; the counters' raise
        try:
            caches[alias].set("healthz", "1", 10)
            if caches[alias].get("healthz") != "1":
                checks["cache"] = "error: no round trip"
        except Exception as exc:  # noqa: BLE001
            logger.warning("healthz cache check failed: %s", exc)
            checks["cache"] = f"error: {type(exc).__name__}"
            break
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503
    )


@require_GET
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> FileResponse:
    """Browsers ask for /favicon.ico whatever the page says; answer it from static/."""
    path = settings.BASE_DIR / "static" / "favicon.ico"
    return FileResponse(path.open("rb"), content_type="image/x-icon")


@require_GET
@public_page
def how_gifts_are_used(request: HttpRequest) -> HttpResponse:
    """What "100% of your donation goes to conservation" means, linked from every page."""
    return render(request, "how_gifts_are_used.html")


# Seconds a client should wait before trying again while the database is unreachable.
RETRY_AFTER = 30


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an unreachable database is an outage, not a bug. Answer 503 with
    Retry-After and a page that says so (the thank-you page and its status JSON: the gift is
    being confirmed), never a raw 500. Anything else is Django's 500 page."""
    exc = sys.exc_info()[1]
    if not isinstance(exc, OperationalError | InterfaceError):
        return defaults.server_error(request)
    logger.error("Database unreachable for %s %s: %s", request.method, request.path, exc)
    try:
        match = resolve(request.path_info)
    except Resolver404:
        match = None
    name = match.view_name if match else ""
    response: HttpResponse
    if name == "donations:status":
        response = JsonResponse(
            {"status": "processing", "label": "Being confirmed", "final": False}, status=503
        )
    elif name == "donations:thanks" and match is not None:
        status_url = reverse("donations:status", kwargs=match.kwargs)
        response = render(
            request, "donations/thanks_confirming.html", {"status_url": status_url}, status=503
        )
    else:
        response = render(request, "503.html", status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    patch_cache_control(response, no_store=True, private=True)
    return response


def admin_locked_out(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """django-axes' answer to a locked-out admin login: 429 and a page that says why."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = render(
        request,
        "admin/locked_out.html",
        {"minutes": minutes, "site_title": "Campaign admin", "site_header": "Campaign admin"},
        status=429,
    )
    response["Retry-After"] = str(minutes * 60)
    return response


@cache_control(max_age=3600, public=True)
def robots_txt(request: HttpRequest) -> HttpResponse:
    """Crawl the public pages; not the admin, the giving steps or donors' thank-you pages."""
    lines = [
        "User-agent: *",
        "Allow: /",
        "Disallow: /admin/",
        "Disallow: /donations/",
        "Disallow: /stripe/",
        "Disallow: /projects/*/donate/",
        "",
        f"Sitemap: {settings.SITE_URL}{reverse('sitemap')}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


def media(request: HttpRequest, path: str) -> HttpResponseBase:
    """Uploaded photos, when this process serves them (SERVE_MEDIA). MEDIA_ROOT is read per
    request, not when the URLconf loads, so a changed setting (the tests') is honoured."""
    return serve(request, path, document_root=str(settings.MEDIA_ROOT))


@never_cache
@require_GET
def csrf_token(request: HttpRequest) -> JsonResponse:
    """This visitor's CSRF token (and its cookie), for the forms of cached pages, which carry
    none (static/js/csrf.js; campaign/pagecache.py)."""
    response = JsonResponse({"token": get_token(request)})
    response["Cache-Control"] = "private, no-store"
    return response
