"""The client's IP address, read through the proxies we trust and no others.

`REMOTE_ADDR` is the socket peer: behind nginx or a load balancer that is the proxy, and
every donor would share one rate-limit bucket. `X-Forwarded-For` names the client, but any
client can send one, so it is believed only as far as `TRUSTED_PROXIES` says:

* unset (the default): no proxy; the client is `REMOTE_ADDR` and the header is ignored;
* a number N: N proxies of ours append to the header; the client is the N-th address from
  the right. Only when the peer is in `TRUSTED_PROXY_NETWORKS` (default: loopback and the
  private ranges, where docker-compose's nginx is): a client reaching gunicorn directly
  from a public address is the peer, whatever its header says;
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


# Where a proxy counted by TRUSTED_PROXIES=N may be: loopback and the private ranges
# (docker-compose's networks are in 172.16.0.0/12 or 192.168.0.0/16).
PRIVATE_NETWORKS = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"


def trusted_networks_parse(value: str) -> tuple[Network, ...]:
    """TRUSTED_PROXY_NETWORKS: networks only (a number means nothing here)."""
    message = f"TRUSTED_PROXY_NETWORKS must be a list of networks, like {PRIVATE_NETWORKS}"
    try:
        networks = trusted_proxies_parse(value)
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(f"{message}: {exc.__cause__}") from exc
    if isinstance(networks, int) or not networks:
        raise ImproperlyConfigured(message)
    return networks


def proxy_settings_check(trusted_proxies: str, trusted_proxy_networks: str) -> None:
    """Refuse malformed values at start-up (settings.py), not at the first request."""
    trusted_proxies_parse(trusted_proxies)
    trusted_networks_parse(trusted_proxy_networks)


@lru_cache(maxsize=8)
def _trusted(value: str) -> int | tuple[Network, ...]:
    return trusted_proxies_parse(value)


@lru_cache(maxsize=8)
def _hop_networks(value: str) -> tuple[Network, ...]:
    return trusted_networks_parse(value)


def _in(address: Address | None, networks: tuple[Network, ...]) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # ::ffff:10.0.0.5 from a dual-stack socket
    return address is not None and any(address in net for net in networks)


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
        # The peer must be one of our proxies, else anyone reaching gunicorn directly would
        # name their own address (and escape every rate limit and lockout).
        if not _in(_address(peer), _hop_networks(settings.TRUSTED_PROXY_NETWORKS)):
            return peer
        if len(hops) < trusted:  # not through all our proxies: the header is not theirs
            return peer
        found = _address(hops[-trusted])
        return str(found) if found else peer
    current = _address(peer)
    # Walk back from the peer while the address we are looking at is one of our proxies.
    while _in(current, trusted) and hops:
        previous = _address(hops.pop())
        if previous is None:  # garbage in the header: the last proxy we trust is the client
            break
        current = previous
    return str(current) if current is not None else peer
