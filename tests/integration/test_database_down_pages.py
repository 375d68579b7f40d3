"""What donors see while PostgreSQL is unreachable, from a real gunicorn: a 503 page with
Retry-After (never a raw 500), and on the thank-you page and its status JSON, that the gift
is being confirmed."""

from __future__ import annotations

import secrets
import uuid

import pytest
import requests

from tests.integration.conftest import DONATE_FIELDS, Stack, free_port

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_pages_answer_503_while_the_database_is_down(stack: Stack) -> None:
    nowhere = f"postgres://postgres@127.0.0.1:{free_port()}/campaign_down"
    base = stack.gunicorn(stack.env(DATABASE_URL=nowhere), healthy=False)

    for path in ["/projects/", "/projects/some-forest/", "/projects/some-forest/fact-sheet/"]:
        r = requests.get(base + path, timeout=30)
        assert r.status_code == 503, (path, r.status_code, r.text[:500])
        assert r.headers["Retry-After"] == "30"
        assert "The site is briefly unavailable. Please try again in a minute." in r.text
        assert "Server Error" not in r.text

    # A donor who loaded the form before the outage posts it.
    token = secrets.token_hex(16)  # a 32-character CSRF secret, as Django sets in the cookie
    r = requests.post(
        f"{base}/projects/some-forest/donate/",
        data={**DONATE_FIELDS, "csrfmiddlewaretoken": token},
        cookies={"csrftoken": token},
        headers={"Referer": f"{base}/projects/some-forest/"},
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 503, r.text[:500]
    assert "nothing was charged" in r.text

    donation_id = uuid.uuid4()
    r = requests.get(f"{base}/donations/{donation_id}/thanks/", timeout=30)
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "30"
    assert "no-store" in r.headers["Cache-Control"]
    assert "Your gift is being confirmed" in r.text
    assert "a receipt will follow by email" in r.text
    assert f'data-status-url="/donations/{donation_id}/status.json"' in r.text  # keeps polling

    r = requests.get(f"{base}/donations/{donation_id}/status.json", timeout=30)
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "30"
    assert r.json() == {"status": "processing", "label": "Being confirmed", "final": False}

    log = stack.procs[0].log.read_text()
    assert "Database unreachable for GET /projects/" in log
    assert '" 500 ' not in log  # the access log: no request answered 500
