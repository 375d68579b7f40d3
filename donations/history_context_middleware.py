"""Who changed a money model: django-pghistory's context (user and path) attached to the
history rows its triggers write. PostgreSQL only: on SQLite (the demo) there are no
triggers and the context would be SQL SQLite cannot run, so nothing is attached."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse
from pghistory.middleware import HistoryMiddleware as PgHistoryMiddleware


class HistoryMiddleware(PgHistoryMiddleware):
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        super().__init__(get_response)
        self._plain = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if connection.vendor != "postgresql":
            return self._plain(request)
        return super().__call__(request)  # type: ignore[no-any-return]
