"""Stale pages on purpose (campaign/nginx.conf, campaign/pagecache.py): behind the shipped
nginx config, an anonymous page that was cached still answers, stale, while gunicorn is down
or the database is; a page never cached gets the site's own 503 page (written by
collectstatic), and /healthz says the node is down."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.conf import settings

from projects.models import Project
from tests.integration import nginx_proc as nginx
from tests.integration.conftest import ROOT, Stack, free_port, wait_for
from tests.integration.throwaway_pg import ThrowawayPostgres

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# nginx keeps a page a second; the tests then wait for the copy to expire.
FAST = {"PAGE_PROXY_CACHE_SECONDS": "1"}


def _expired_copy_served(url: str) -> None:
    first = requests.get(url, timeout=10)
    assert first.status_code == 200 and first.headers["X-Cache"] == "MISS", first.headers
    control = first.headers["Cache-Control"]
    assert f"stale-if-error={settings.PAGE_STALE_SECONDS}" in control, control
    assert "stale-while-revalidate=30" in control
    time.sleep(2.5)  # past X-Accel-Expires (whole seconds): what nginx holds is expired


def _is_the_site_503(response: requests.Response) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Retry-After"] == "30"
    text = response.text
    assert "We&#x27;ll be right back" in text or "We'll be right back" in text
    assert "nginx" not in text
    assert re.search(r'<link rel="stylesheet" href="/static/css/site[^"]*\.css">', text)
    assert 'class="site-header"' in text and 'class="site-footer"' in text


def test_gunicorn_stopped_cached_pages_stale_others_the_site_503(
    stack: Stack, tmp_path: Path, project: Project
) -> None:
    static = nginx.collected_static(tmp_path / "static")
    upstream = stack.gunicorn(stack.env(**FAST)).removeprefix("http://")
    gunicorn = stack.procs[-1]
    base, _ = nginx.start(
        stack, tmp_path / "nginx", [upstream], static_root=static, media_root=tmp_path
    )
    url = f"{base}{project.get_absolute_url()}"
    _expired_copy_served(url)
    stack.kill(gunicorn)  # SIGKILL, the whole group: connections refused from now on

    stale = requests.get(url, timeout=10)
    assert stale.status_code == 200 and stale.headers["X-Cache"] == "STALE", stale.headers
    assert project.title in stale.text
    never_cached = requests.get(f"{base}{project.get_absolute_url()}fact-sheet/", timeout=10)
    _is_the_site_503(never_cached)
    # The stylesheet the page names is there (nginx serves static files itself).
    css = re.search(r'href="(/static/css/site[^"]*\.css)"', never_cached.text)
    assert css and requests.get(base + css.group(1), timeout=10).status_code == 200
    health = requests.get(f"{base}/healthz", timeout=10)
    assert health.status_code in {502, 503}
    assert "X-Cache" not in health.headers  # never from, nor into, the cache


DBNAME = "campaign_stale"


@pytest.fixture
def throwaway_pg(stack: Stack) -> Iterator[ThrowawayPostgres]:
    pg = ThrowawayPostgres(free_port())
    try:
        pg.start()
        conn = pg.connect()
        try:
            conn.cursor().execute(f"CREATE DATABASE {DBNAME}")
        finally:
            conn.close()
        yield pg
    finally:
        stack.stop_all()
        pg.destroy()


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_database_stopped_cached_pages_stay_up(
    stack: Stack, tmp_path: Path, throwaway_pg: ThrowawayPostgres
) -> None:
    env = stack.env(DATABASE_URL=throwaway_pg.url(DBNAME), **FAST)
    _manage(env, "migrate", "--noinput", "-v", "0")
    slug = re.search(r"/projects/([\w-]+)/", _manage(env, "load_demo"))
    assert slug, "load_demo names no project"
    static = nginx.collected_static(tmp_path / "static")
    upstream = stack.gunicorn(env).removeprefix("http://")
    base, _ = nginx.start(
        stack, tmp_path / "nginx", [upstream], static_root=static, media_root=tmp_path
    )
    url = f"{base}/projects/{slug.group(1)}/"
    _expired_copy_served(url)
    throwaway_pg.stop()
    wait_for(
        lambda: requests.get(f"{base}/healthz", timeout=10).status_code == 503,
        timeout=30,
        what="the app to see the database gone",
    )

    stale = requests.get(url, timeout=30)
    assert stale.status_code == 200 and stale.headers["X-Cache"] == "STALE", stale.headers
    # A page never cached gets the app's own 503 (the same template), passed through.
    fresh = requests.get(f"{url}fact-sheet/", timeout=30)
    assert fresh.status_code == 503
    assert "The site is briefly unavailable. Please try again in a minute." in fresh.text
