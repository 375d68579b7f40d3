"""The client's IP address, read through the proxies we trust and no others.

`REMOTE_ADDR` is the socket peer: behind nginx or a load balancer that is the proxy, and
every donor would share one rate-limit bucket. `X-Forwarded-For` names the client, but any
client can send one, so it is believed only as far as `TRUSTED_PROXIES` says:

* unset (the default): no proxy; the client is `REMOTE_ADDR` and the header is ignored;
* a number N: exactly N proxies of ours append to the header and the app cannot be reached
  except through them; the client is the N-th address from the right;
* networks (`10.0.0.0/8,2001:db8::/32`): a peer in them is one of our proxies. Walking the
  header from the right (each proxy appends the address it saw), the first address that is
  not one of our proxies is the client. A request whose peer is not in these networks is
  taken at its word of nothing: its header may be forged, so the client is the peer.

Written by hand (a dozen lines on the standard `ipaddress` module): django-ipware and
django-xff match trusted proxies by string prefix or trust the left-most entry by default,
while this needs real networks and the right-to-left walk that nginx's `real_ip_recursive`
does. django-axes is given the same function (AXES_CLIENT_IP_CALLABLE), so admin lockouts
and donation rate limits agree on who the client is.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def trusted_proxies_parse(value: str) -> int | tuple[Network, ...]:
    """'' -> 0 (no proxy); '2' -> 2 hops; '10.0.0.0/8, ::1' -> those networks."""
    value = value.strip()
    if not value:
        return 0
    if value.isdigit():
        return int(value)
    try:
        return tuple(
            ipaddress.ip_network(part.strip(), strict=False)
            for part in value.split(",")
            if part.strip()
        )
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES must be a number of proxies or a list of networks: {exc}"
        ) from exc


@lru_cache(maxsize=8)
def _trusted(value: str) -> int | tuple[Network, ...]:
    return trusted_proxies_parse(value)


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 203.0.113.7:51000
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    peer = request.META.get("REMOTE_ADDR", "")
    trusted = _trusted(settings.TRUSTED_PROXIES)
    if not trusted:
        return peer
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if isinstance(trusted, int):
        if len(hops) < trusted:  # not through all our proxies: the header is not theirs
            return peer
        found = _address(hops[-trusted])
        return str(found) if found else peer
    current = _address(peer)
    # Walk back from the peer while the address we are looking at is one of our proxies.
    while current is not None and any(current in net for net in trusted) and hops:
        previous = _address(hops.pop())
        if previous is None:  # garbage in the header: the last proxy we trust is the client
            break
        current = previous
    return str(current) if current is not None else peer
