"""Rate limits on starting a gift: the card-testing defence.

Two fixed-window counters, both keyed by where the request comes from (the client's
address through the trusted proxies, campaign/client_ip.py; an IPv6 client by its /64,
which one subscriber can fill with addresses at will):

* per source: `DONATION_RATE_LIMIT_PER_IP` gifts started per window, whatever the email;
* per email *from that source*: `DONATION_RATE_LIMIT_PER_EMAIL`, the email normalised so
  that plus-addressing (ana+1@, ana+2@) and Gmail's dots are one address.

The email counter is never shared between sources: a stranger who types a donor's email
fills only their own bucket, so they cannot lock the donor out. Card testing from many
networks with one email is left to Stripe Radar, which Checkout runs on every card attempt:
any counter that strangers can fill by typing an email is a way to stop that donor giving.

The counters live in the shared cache ("counters" alias, Redis in production). When it
cannot be reached the limiter falls back to the same limits counted in this process's
memory (so per web process, not site-wide), logs that it did, and giving goes on.

Written by hand: two counters on the cache's atomic incr and a small in-memory fallback;
django-ratelimit's decorator API has no fallback for a cache that is down.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import threading
import time

from django.core.cache import caches
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
GMAIL = {"gmail.com", "googlemail.com"}


def parse_rate(rate: str) -> tuple[int, int]:
    """'10/h' -> (10, 3600)."""
    count, _, unit = rate.partition("/")
    if not count.isdigit() or unit not in UNITS:
        raise ValueError(f"Rate must look like 10/h, not {rate!r}")
    return int(count), UNITS[unit]


def email_normalise(email: str) -> str:
    """The mailbox an address delivers to, as far as we can tell: lower case, without a
    +tag, and for Gmail without dots (ana.q+x@googlemail.com -> anaq@gmail.com)."""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def source_key(ip: str) -> str:
    """An IPv4 address as it is; an IPv6 one as its /64."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class _LocalWindows:
    """The fallback: fixed windows in this process's memory, bounded in size."""

    MAX_KEYS = 20_000

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def incr(self, key: str, window: int) -> int:
        now = time.monotonic()
        with self._lock:
            if len(self._counts) >= self.MAX_KEYS:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
                if len(self._counts) >= self.MAX_KEYS:  # a flood of distinct keys
                    self._counts.clear()
            count, expires = self._counts.get(key, (0, now + window + 5))
            if expires <= now:
                count, expires = 0, now + window + 5
            self._counts[key] = (count + 1, expires)
            return count + 1

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


local_windows = _LocalWindows()
_LOG_EVERY = 30.0
_last_logged = 0.0


def _shared_incr(cache_key: str, window: int) -> int:
    counters = caches["counters"]
    counters.add(cache_key, 0, timeout=window + 5)
    try:
        return int(counters.incr(cache_key))
    except ValueError:  # expired between add and incr
        counters.set(cache_key, 1, timeout=window + 5)
        return 1


def rate_limit_hit(*, scope: str, key: str, rate: str) -> bool:
    """Count one attempt; True when the caller is over the limit for this window."""
    global _last_logged  # noqa: PLW0603 - one throttle per process is the point
    limit, window = parse_rate(rate)
    bucket = int(time.time() // window)
    digest = hashlib.sha256(key.lower().encode()).hexdigest()[:32]
    cache_key = f"rl:{scope}:{digest}:{bucket}"
    try:
        count = _shared_incr(cache_key, window)
    except (RedisError, OSError) as exc:
        now = time.monotonic()
        if now - _last_logged >= _LOG_EVERY:
            _last_logged = now
            logger.warning(
                "Rate-limit cache unreachable (%s: %s): counting in this process's memory",
                type(exc).__name__,
                exc,
            )
        count = local_windows.incr(cache_key, window)
    return count > limit


def gift_start_limited(*, ip: str, email: str, per_ip: str, per_email: str) -> bool:
    """Count a gift being started; True when it must be refused."""
    source = source_key(ip)
    return rate_limit_hit(scope="gift-ip", key=source, rate=per_ip) or rate_limit_hit(
        scope="gift-email", key=f"{email_normalise(email)} {source}", rate=per_email
    )
