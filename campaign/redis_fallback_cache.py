"""The page cache is an optimisation: when Redis is unreachable, reads miss and writes are
dropped (logged), so a page renders afresh instead of answering 500.

Only the "default" alias (template fragments such as the thermometer) uses this backend.
The rate-limit counters use the plain backend on the "counters" alias and decide for
themselves what to do when it fails (donations/services/ratelimit.py).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_LOG_EVERY = 30.0  # seconds: one line per process per half-minute, not one per request
_last_logged = 0.0


def _unreachable(operation: str, exc: Exception) -> None:
    global _last_logged  # noqa: PLW0603 - one throttle per process is the point
    now = time.monotonic()
    if now - _last_logged >= _LOG_EVERY:
        _last_logged = now
        logger.warning(
            "Cache unreachable on %s (%s: %s): pages render uncached",
            operation,
            type(exc).__name__,
            exc,
        )


class TolerantRedisCache(RedisCache):
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except RedisError as exc:
            _unreachable("get", exc)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except RedisError as exc:
            _unreachable("get_many", exc)
            return {}

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        try:
            super().set(key, value, timeout, version)
        except RedisError as exc:
            _unreachable("set", exc)

    def set_many(
        self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        try:
            return super().set_many(data, timeout, version)
        except RedisError as exc:
            _unreachable("set_many", exc)
            return list(data)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except RedisError as exc:
            _unreachable("add", exc)
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except RedisError as exc:
            _unreachable("delete", exc)
            return False
