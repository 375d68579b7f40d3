"""Fixed-window rate limits in the shared cache (Redis in production): card-testing defence.

Written by hand: ten lines on the cache's atomic incr; django-ratelimit would add a
decorator-centred API we do not need here.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'10/h' -> (10, 3600)."""
    count, _, unit = rate.partition("/")
    if not count.isdigit() or unit not in UNITS:
        raise ValueError(f"Rate must look like 10/h, not {rate!r}")
    return int(count), UNITS[unit]


def rate_limit_hit(*, scope: str, key: str, rate: str) -> bool:
    """Count one attempt; True when the caller is over the limit for this window."""
    limit, window = parse_rate(rate)
    bucket = int(time.time() // window)
    digest = hashlib.sha256(key.lower().encode()).hexdigest()[:32]
    cache_key = f"rl:{scope}:{digest}:{bucket}"
    cache.add(cache_key, 0, timeout=window + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window + 5)
        count = 1
    return count > limit
