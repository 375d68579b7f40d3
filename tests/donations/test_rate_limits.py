"""Who the client is behind proxies, the per-email limit that strangers cannot fill for a
donor, and giving while the cache Redis is down."""

from __future__ import annotations

import logging
import os
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client, RequestFactory, override_settings

import campaign.redis_fallback_cache
from campaign.client_ip import client_ip
from donations.models import Donation
from donations.services import ratelimit
from donations.services.ratelimit import email_normalise, source_key
from projects.models import Project
from tests.donations.giving_helpers import donate_url, gift_data, in_one_window, page_text
from tests.projects.test_deploy import manage

LIMITED = "Too many gifts were started from here in a short time."

# --- the client's address -------------------------------------------------------------------


def _ip(settings: Any, trusted: str, peer: str, forwarded: str | None = None) -> str:
    settings.TRUSTED_PROXIES = trusted
    headers: dict[str, Any] = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=peer, **headers))


def test_without_trusted_proxies_the_header_is_ignored(settings: Any) -> None:
    assert _ip(settings, "", "198.51.100.7", "203.0.113.1") == "198.51.100.7"


def test_through_trusted_networks_the_client_is_the_first_untrusted_hop(settings: Any) -> None:
    nets = "10.0.0.0/8, 2001:db8:ffff::/48"
    # nginx (10.0.0.5) appended what it saw: the client.
    assert _ip(settings, nets, "10.0.0.5", "203.0.113.1") == "203.0.113.1"
    # Two of our proxies: load balancer then nginx; the client sent a forged first entry.
    assert _ip(settings, nets, "10.0.0.5", "6.6.6.6, 203.0.113.1, 10.1.2.3") == "203.0.113.1"
    assert _ip(settings, nets, "2001:db8:ffff::1", "2001:db8:1::9") == "2001:db8:1::9"
    assert _ip(settings, nets, "10.0.0.5", "203.0.113.1:51000") == "203.0.113.1"
    # Garbage where an address should be: the nearest proxy we trust is all we know.
    assert _ip(settings, nets, "10.0.0.5", "not-an-ip") == "10.0.0.5"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored(settings: Any) -> None:
    nets = "10.0.0.0/8"
    assert _ip(settings, nets, "198.51.100.7", "203.0.113.1") == "198.51.100.7"
    assert _ip(settings, nets, "198.51.100.7", "10.0.0.1") == "198.51.100.7"


def test_a_count_of_hops_takes_that_many_from_the_right(settings: Any) -> None:
    assert _ip(settings, "1", "10.0.0.5", "6.6.6.6, 203.0.113.1") == "203.0.113.1"
    assert _ip(settings, "2", "10.0.0.5", "6.6.6.6, 203.0.113.1, 10.9.9.9") == "203.0.113.1"
    # Fewer entries than our proxies add: the request did not come through them.
    assert _ip(settings, "2", "198.51.100.7", "6.6.6.6") == "198.51.100.7"


def test_a_count_of_hops_is_believed_only_from_our_proxies_networks(settings: Any) -> None:
    """TRUSTED_PROXIES=1 (the compose default): a client reaching gunicorn directly from a
    public address used to choose its own address with the header."""
    assert _ip(settings, "1", "198.51.100.7", "203.0.113.1") == "198.51.100.7"
    assert _ip(settings, "1", "2001:db8::7", "203.0.113.1") == "2001:db8::7"
    # Through nginx on docker-compose's network, on loopback, or a dual-stack socket.
    assert _ip(settings, "1", "172.18.0.3", "203.0.113.1") == "203.0.113.1"
    assert _ip(settings, "1", "192.168.16.2", "203.0.113.1") == "203.0.113.1"
    assert _ip(settings, "1", "127.0.0.1", "203.0.113.1") == "203.0.113.1"
    assert _ip(settings, "1", "::ffff:10.0.0.5", "203.0.113.1") == "203.0.113.1"
    # Our proxies somewhere else: say where.
    settings.TRUSTED_PROXY_NETWORKS = "198.51.100.0/24"
    assert _ip(settings, "1", "198.51.100.7", "203.0.113.1") == "203.0.113.1"
    assert _ip(settings, "1", "10.0.0.5", "203.0.113.1") == "10.0.0.5"


@pytest.mark.parametrize("value", ["2", "not-a-network", " , "])
def test_a_malformed_proxy_network_list_is_refused_at_start_up(value: str) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    result = manage("check", env={**env, "TRUSTED_PROXY_NETWORKS": value})
    assert result.returncode != 0
    assert "ImproperlyConfigured: TRUSTED_PROXY_NETWORKS must be a list of networks" in (
        result.stderr
    ), result.stderr[-2000:]


def test_a_direct_client_cannot_escape_the_limit_with_a_count_of_hops(
    client: Client, project: Project, fake_stripe: Any, settings: Any
) -> None:
    settings.DONATION_RATE_LIMIT_PER_IP = "3/h"
    settings.TRUSTED_PROXIES = "1"

    def scenario(attempt: int) -> None:
        # Through nginx (a compose network address) each donor is counted on their own...
        for n in range(4):
            r = client.post(
                donate_url(project),
                gift_data(donor_email=f"p{n}@example.org"),
                HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt * 10 + n}",
                REMOTE_ADDR="172.18.0.3",
            )
            assert r.status_code == 303, page_text(r)[:2000]
        # ...but straight to gunicorn, a new forged address each time changes nothing.
        codes = [
            client.post(
                donate_url(project),
                gift_data(donor_email=f"q{n}@example.org"),
                HTTP_X_FORWARDED_FOR=f"198.51.100.{attempt * 10 + n}",
                REMOTE_ADDR=f"192.0.2.{attempt + 50}",
            ).status_code
            for n in range(4)
        ]
        assert codes == [303, 303, 303, 429]

    in_one_window(scenario, fake_stripe)


def test_behind_a_proxy_each_donor_has_their_own_bucket(
    client: Client, project: Project, fake_stripe: Any, settings: Any
) -> None:
    """The issue's case: behind nginx the 4th gift on the whole site was refused."""
    settings.DONATION_RATE_LIMIT_PER_IP = "3/h"
    settings.TRUSTED_PROXIES = "10.0.0.0/8"
    proxy: dict[str, Any] = {"REMOTE_ADDR": "10.0.0.5"}

    def scenario(attempt: int) -> None:
        for n in range(6):
            r = client.post(
                donate_url(project),
                gift_data(donor_email=f"d{n}@example.org"),
                HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt * 10 + n}",
                **proxy,
            )
            assert r.status_code == 303, page_text(r)[:2000]
        # One donor is still limited, through the proxy.
        ip = f"198.51.100.{attempt}"
        codes = [
            client.post(
                donate_url(project),
                gift_data(donor_email=f"x{n}@example.org"),
                HTTP_X_FORWARDED_FOR=ip,
                **proxy,
            ).status_code
            for n in range(4)
        ]
        assert codes == [303, 303, 303, 429]
        # A direct client cannot escape its bucket with a forged header.
        direct = f"192.0.2.{attempt}"
        codes = [
            client.post(
                donate_url(project),
                gift_data(donor_email=f"y{n}@example.org"),
                HTTP_X_FORWARDED_FOR=f"203.0.113.{200 + n}",
                REMOTE_ADDR=direct,
            ).status_code
            for n in range(4)
        ]
        assert codes == [303, 303, 303, 429]

    in_one_window(scenario, fake_stripe)


# --- the per-email limit --------------------------------------------------------------------


def test_email_normalisation() -> None:
    assert email_normalise("Ana.Quispe+gift@Example.org") == "ana.quispe@example.org"
    assert email_normalise("ana.q+1@googlemail.com") == "anaq@gmail.com"
    assert email_normalise("A.N.A@gmail.com") == "ana@gmail.com"


def test_ipv6_clients_are_counted_by_their_64() -> None:
    assert source_key("2001:db8:1:2:aaaa::1") == source_key("2001:db8:1:2:bbbb::7")
    assert source_key("2001:db8:1:3::1") != source_key("2001:db8:1:2::1")
    assert source_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert source_key("192.0.2.1") != source_key("192.0.2.2")


def test_plus_addressing_does_not_walk_around_the_email_limit(
    client: Client, project: Project, fake_stripe: Any, settings: Any
) -> None:
    settings.DONATION_RATE_LIMIT_PER_IP = "100/h"
    settings.DONATION_RATE_LIMIT_PER_EMAIL = "2/h"

    def scenario(attempt: int) -> None:
        ip = f"192.0.2.{attempt + 20}"
        spellings = [f"tester{attempt}@example.org", f"Tester{attempt}+1@example.org"]
        for spelled in spellings:
            r = client.post(donate_url(project), gift_data(donor_email=spelled), REMOTE_ADDR=ip)
            assert r.status_code == 303
        r = client.post(
            donate_url(project),
            gift_data(donor_email=f"TESTER{attempt}+again@example.org"),
            REMOTE_ADDR=ip,
        )
        assert r.status_code == 429
        assert LIMITED in page_text(r)
        # Another email from the same place is not this email's limit.
        r = client.post(
            donate_url(project), gift_data(donor_email="other@example.org"), REMOTE_ADDR=ip
        )
        assert r.status_code == 303
        assert Donation.objects.count() == 3

    in_one_window(scenario, fake_stripe)


def test_a_stranger_cannot_lock_a_donor_out(
    client: Client, project: Project, fake_stripe: Any, settings: Any
) -> None:
    """Before: 5 posts with the donor's email from anywhere refused the donor for an hour."""
    settings.DONATION_RATE_LIMIT_PER_IP = "100/h"
    settings.DONATION_RATE_LIMIT_PER_EMAIL = "5/h"

    def scenario(attempt: int) -> None:
        email = f"ana{attempt}@example.org"
        for n in range(20):  # from many addresses, and with plus-tags
            client.post(
                donate_url(project),
                gift_data(donor_email=email if n % 2 else email.replace("@", f"+{n}@")),
                REMOTE_ADDR=f"203.0.113.{n}",
            )
        r = client.post(
            donate_url(project), gift_data(donor_email=email), REMOTE_ADDR="198.51.100.77"
        )
        assert r.status_code == 303, page_text(r)[:2000]
        assert Donation.objects.filter(donor_email=email).exists()

    in_one_window(scenario, fake_stripe)


# --- the cache Redis down -------------------------------------------------------------------

UNREACHABLE = {
    alias: {
        "BACKEND": backend,
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    for alias, backend in (
        ("default", "campaign.redis_fallback_cache.TolerantRedisCache"),
        ("counters", "django.core.cache.backends.redis.RedisCache"),
    )
}


@pytest.fixture
def cache_down(monkeypatch: pytest.MonkeyPatch) -> Any:
    # Each says so once per half-minute per process: start the clock for this test.
    monkeypatch.setattr(campaign.redis_fallback_cache, "_last_logged", 0.0)
    monkeypatch.setattr(ratelimit, "_last_logged", 0.0)
    with override_settings(CACHES=UNREACHABLE):  # Django swaps the cache handles too
        assert caches["counters"]._servers == ["redis://127.0.0.1:1/0"]  # type: ignore[attr-defined]
        yield


def test_giving_works_while_the_cache_is_down(
    client: Client,
    project: Project,
    fake_stripe: Any,
    settings: Any,
    cache_down: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.DONATION_RATE_LIMIT_PER_IP = "3/h"
    caplog.set_level(logging.WARNING)
    page = client.get(project.get_absolute_url())
    assert page.status_code == 200
    assert 'data-testid="raised"' in page.content.decode()
    assert "pages render uncached" in caplog.text

    def scenario(attempt: int) -> None:
        ip = f"203.0.113.{attempt + 100}"
        codes = [
            client.post(
                donate_url(project), gift_data(donor_email=f"d{n}@example.org"), REMOTE_ADDR=ip
            ).status_code
            for n in range(4)
        ]
        # Gifts start, and the limit still holds (counted in this process).
        assert codes == [303, 303, 303, 429]

    in_one_window(scenario, fake_stripe)
    assert "Rate-limit cache unreachable" in caplog.text
    assert "counting in this process's memory" in caplog.text
