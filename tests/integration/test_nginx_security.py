"""Security findings of issue 19 on the shipped nginx config, with a real nginx in front of
a real gunicorn: the scheme a visitor used (X-Forwarded-Proto believed only from a trusted
balancer; a plain-http request never served an https copy), only pages the app marks are
micro-cached, and long URLs or headers answer cleanly (never a 502)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import requests

from projects.models import Project
from tests.integration import nginx_proc as nginx
from tests.integration.conftest import Stack

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _production(stack: Stack, tmp_path: Path) -> dict[str, str]:
    """The web service's production settings (SECURE_SSL_REDIRECT on, hashed static names)."""
    env = stack.env(
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL="https://127.0.0.1",
        STRIPE_WEBHOOK_SECRET="whsec_" + secrets.token_hex(16),
        TRUSTED_PROXIES="1",
    )
    env["STATIC_ROOT"] = str(nginx.collected_static(tmp_path / "static", env))
    return env


def _get(url: str, **headers: str) -> requests.Response:
    return requests.get(url, headers=headers, allow_redirects=False, timeout=10)


def test_a_clients_own_x_forwarded_proto_is_not_believed(
    stack: Stack, tmp_path: Path, project: Project
) -> None:
    env = _production(stack, tmp_path)
    upstream = stack.gunicorn(env).removeprefix("http://")
    base, _ = nginx.start(
        stack,
        tmp_path / "nginx",
        [upstream],
        static_root=Path(env["STATIC_ROOT"]),
        media_root=tmp_path,
    )
    # nginx faces the internet (no balancer configured): the visitor came over http, whatever
    # they say, and the app sends them to https.
    page = project.get_absolute_url()
    spoofed = _get(base + page, **{"X-Forwarded-Proto": "https"})
    assert spoofed.status_code == 301, spoofed.status_code
    assert spoofed.headers["Location"] == f"https://127.0.0.1{page}"
    assert _get(f"{base}/healthz").status_code == 200  # a health check is never redirected


def test_plain_http_is_redirected_even_when_an_https_copy_is_cached(
    stack: Stack, tmp_path: Path, project: Project
) -> None:
    env = _production(stack, tmp_path)
    upstream = stack.gunicorn(env).removeprefix("http://")
    base, _ = nginx.start(
        stack,
        tmp_path / "nginx",
        [upstream],
        static_root=Path(env["STATIC_ROOT"]),
        media_root=tmp_path,
        balancers="127.0.0.1",  # the tests' requests come through "the balancer"
    )
    url = base + project.get_absolute_url()
    https = {"X-Forwarded-Proto": "https"}
    first = _get(url, **https)
    assert first.status_code == 200 and first.headers["X-Cache"] == "MISS"
    assert _get(url, **https).headers["X-Cache"] == "HIT"
    for plain in ({"X-Forwarded-Proto": "http"}, {}):
        answer = _get(url, **plain)
        assert answer.status_code == 301, (plain, answer.status_code, answer.headers)
        assert answer.headers["Location"].startswith("https://")


@pytest.fixture
def dev_proxy(stack: Stack, tmp_path: Path) -> str:
    upstream = stack.gunicorn(stack.env()).removeprefix("http://")
    base, _ = nginx.start(
        stack,
        tmp_path / "nginx",
        [upstream],
        static_root=nginx.collected_static(tmp_path / "static"),
        media_root=tmp_path,
    )
    return base


def test_only_pages_the_app_marks_are_micro_cached(dev_proxy: str) -> None:
    # robots.txt says "public, max-age=3600" to browsers, without X-Accel-Expires.
    first = _get(f"{dev_proxy}/robots.txt")
    assert first.status_code == 200 and "max-age=3600" in first.headers["Cache-Control"]
    again = _get(f"{dev_proxy}/robots.txt")
    assert again.headers["X-Cache"] == "MISS", again.headers  # asked the app again


def test_long_urls_and_headers_answer_cleanly(dev_proxy: str, project: Project) -> None:
    url = dev_proxy + project.get_absolute_url()
    long_query = _get(f"{url}?utm_source={'a' * 3000}")
    assert long_query.status_code == 200, long_query.status_code
    assert project.title in long_query.text
    long_path = _get(f"{dev_proxy}/projects/{'b' * 3000}/")
    assert long_path.status_code == 404
    long_language = _get(url, **{"Accept-Language": "en;q=0.9, " + "x-a;q=0.1, " * 300})
    assert long_language.status_code == 200
    # A URL gunicorn would refuse (its request line stops at 4094 bytes): nginx says 414.
    too_long = _get(f"{url}?utm_source={'a' * 4500}")
    assert too_long.status_code == 414
    # Ordinary pages still cache.
    _get(url)
    assert _get(url).headers["X-Cache"] == "HIT"
