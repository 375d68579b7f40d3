"""The shipped nginx config (campaign/nginx.conf), run by a real nginx in front of a real
gunicorn: static and uploaded files, gzip, the micro-cache (never for a session, a form
post's token or donor data), the webhook's body limit."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings
from djmoney.money import Money

from projects.models import FundingTotals, Project
from tests.integration import nginx_proc as nginx
from tests.integration.conftest import Stack, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _get(url: str, timeout: float = 10, **kwargs: Any) -> requests.Response:
    return requests.get(url, timeout=timeout, **kwargs)


def _post(url: str, timeout: float = 10, **kwargs: Any) -> requests.Response:
    return requests.post(url, timeout=timeout, **kwargs)


@pytest.fixture
def proxy(stack: Stack, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    nginx.binary()
    upstream = stack.gunicorn(stack.env()).removeprefix("http://")
    media = tmp_path / "media"
    (media / "projects").mkdir(parents=True)
    (media / "projects" / "p.jpg").write_bytes(b"\xff\xd8\xff-a-photo")
    base, proc = nginx.start(
        stack,
        tmp_path / "nginx",
        [upstream],
        static_root=Path(settings.BASE_DIR) / "static",
        media_root=media,
    )
    yield base, media
    if proc.alive():
        os.killpg(proc.popen.pid, signal.SIGQUIT)


def test_static_and_uploaded_files_come_from_nginx(proxy: tuple[str, Path]) -> None:
    base, _media = proxy
    css = _get(f"{base}/static/css/site.css", headers={"Accept-Encoding": "gzip"})
    assert css.status_code == 200
    assert css.headers["Content-Encoding"] == "gzip"
    assert "immutable" in css.headers["Cache-Control"]
    assert "X-Cache" not in css.headers  # straight from disk, gunicorn never asked
    photo = _get(f"{base}/media/projects/p.jpg")
    assert photo.status_code == 200 and photo.content == b"\xff\xd8\xff-a-photo"
    assert photo.headers["Content-Type"] == "image/jpeg"


def test_anonymous_pages_are_micro_cached_and_stay_fresh(
    proxy: tuple[str, Path], project: Project
) -> None:
    base, _ = proxy
    url = f"{base}{project.get_absolute_url()}"
    first = _get(url)
    assert first.status_code == 200 and first.headers["X-Cache"] == "MISS"
    second = _get(url)
    assert second.headers["X-Cache"] == "HIT"
    assert second.text == first.text
    assert "X-Accel-Expires" not in second.headers  # nginx's own, not the browser's
    FundingTotals.objects.filter(project=project).update(raised=Money(Decimal(4321), "USD"))
    # The app's cache moves at once; nginx's copy lives PAGE_PROXY_CACHE_SECONDS at most.
    wait_for(
        lambda: "$4,321" in _get(url).text,
        timeout=settings.PAGE_PROXY_CACHE_SECONDS + 5,
        what="the new total through nginx",
    )


def test_one_copy_per_language_whatever_other_cookies_a_visitor_has(
    proxy: tuple[str, Path], project: Project
) -> None:
    base, _ = proxy
    url = f"{base}{project.get_absolute_url()}"
    english = _get(url, cookies={"csrftoken": "a" * 32})
    assert english.headers["Content-Language"] == "en"
    # Another visitor's token cookie does not split the copy...
    other = _get(url, cookies={"csrftoken": "b" * 32})
    assert other.headers["X-Cache"] == "HIT" and other.text == english.text
    # ...but their language does: never the English copy for a Spanish reader.
    for kwargs in (
        {"cookies": {"django_language": "es"}},
        {"headers": {"Accept-Language": "es-PE,es;q=0.9"}},
    ):
        spanish = _get(url, **kwargs)  # type: ignore[arg-type]
        assert spanish.headers["Content-Language"] == "es"
        assert '<html lang="es">' in spanish.text and spanish.headers["X-Cache"] != "HIT"
    # The language cookie twice (any case): nginx would read one, Django the other, so such a
    # request is never stored or served from the cache.
    twice = _get(url, headers={"Cookie": "DJANGO_LANGUAGE=es; django_language=en"})
    assert twice.headers["X-Cache"] == "BYPASS" and '<html lang="en">' in twice.text
    prefixed = f"{base}/es{project.get_absolute_url()}"
    assert _get(prefixed).headers["Content-Language"] == "es"
    assert _get(prefixed, cookies={"csrftoken": "c" * 32}).headers["X-Cache"] == "HIT"


def test_sessions_tokens_and_posts_are_never_cached(
    proxy: tuple[str, Path], project: Project
) -> None:
    base, _ = proxy
    url = f"{base}{project.get_absolute_url()}"
    _get(url)
    with_session = _get(url, cookies={"sessionid": "someones-session"})
    assert with_session.headers["X-Cache"] == "BYPASS"
    tokens = {_get(f"{base}/csrf/").json()["token"] for _ in range(2)}
    other = _get(f"{base}/csrf/").json()["token"]
    assert len(tokens | {other}) == 3  # every answer is fresh, never a stored one
    assert _get(f"{base}/csrf/").headers["X-Cache"] != "HIT"


def test_webhook_bodies_over_a_megabyte_are_refused(proxy: tuple[str, Path]) -> None:
    base, _ = proxy
    big = _post(f"{base}/stripe/webhook/", data=b"x" * (1024 * 1024 + 1))
    assert big.status_code == 413
    unsigned = _post(f"{base}/stripe/webhook/", data=b"{}")
    assert unsigned.status_code == 400  # reached the app, which wants a signature
