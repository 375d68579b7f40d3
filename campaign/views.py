from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET

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
def how_gifts_are_used(request: HttpRequest) -> HttpResponse:
    """What "100% of your donation goes to conservation" means, linked from every page."""
    return render(request, "how_gifts_are_used.html")
