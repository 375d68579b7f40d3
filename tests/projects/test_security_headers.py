"""Content-Security-Policy on every page and no inline scripts or handlers in our HTML;
`Cache-Control: private, no-store` on every page that shows a donor's data."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from donations.models import Donation
from projects.models import Project
from projects.services.demo import SEED_SLUG
from projects.services.editor import prose_editor_importmap_hash
from tests.factories import StaffFactory

DATA_TYPES = {"application/json", "application/ld+json", "importmap"}


class InlineCode(HTMLParser):
    """Collects inline <script> bodies (other than JSON data) and on* attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for name, _value in attrs:
            if name.lower().startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name.lower() in {"href", "src", "action"} and (
                _value or ""
            ).lower().strip().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...>")
        if tag == "script":
            # JSON data (json_script), JSON-LD (schema.org data blocks, never run) and import
            # maps (JSON that only maps module names to our static URLs) are not code.
            self._in_script = "src" not in names and names.get("type") not in DATA_TYPES

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append(f"<script>{data.strip()[:60]}</script>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def csp_directives(response: Any) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def test_the_inline_code_finder_finds_inline_code() -> None:
    """The control for the scans below."""
    assert inline_code('<button onclick="go()">x</button>') == ["<button onclick=...>"]
    assert inline_code("<script>alert(1)</script>") == ["<script>alert(1)</script>"]
    assert inline_code('<a href="javascript:go()">x</a>')
    assert not inline_code('<script src="/static/js/x.js"></script>')
    assert not inline_code('<script id="d" type="application/json">{"a": 1}</script>')
    assert not inline_code('<script type="importmap">{"imports": {}}</script>')
    assert not inline_code('<script type="application/ld+json">{"@type": "NGO"}</script>')
    assert inline_code('<script type="text/javascript">go()</script>')


@pytest.fixture
def pages(client: Client, db: None) -> dict[str, str]:
    call_command("load_demo", stdout=io.StringIO())
    project = Project.objects.get(slug=SEED_SLUG)
    response = client.post(
        f"/projects/{project.slug}/donate/",
        {
            "preset": "50",
            "currency": "USD",
            "frequency": "one_time",
            "donor_name": "Ana Quispe",
            "donor_email": "ana@example.org",
        },
    )
    assert response.status_code == 303
    donation = Donation.objects.get()
    return {
        "list": "/projects/",
        "detail": f"/projects/{project.slug}/",
        "fact sheet": f"/projects/{project.slug}/fact-sheet/",
        "thanks": f"/donations/{donation.pk}/thanks/",
        "test checkout": response["Location"],
        "admin login": "/admin/login/",
    }


def test_every_page_has_a_policy_without_inline_script(
    client: Client, pages: dict[str, str]
) -> None:
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, (name, url)
        csp = csp_directives(response)
        assert csp.get("script-src") == ["'self'"], (name, csp)
        assert csp.get("default-src") == ["'self'"], name
        assert csp.get("object-src") == ["'none'"], name
        assert csp.get("frame-ancestors") == ["'none'"], name
        assert csp.get("style-src-elem") == ["'self'"], name  # no <style> blocks
        assert "https://checkout.stripe.com" in csp.get("form-action", []), name
        assert inline_code(response.content.decode()) == [], name


def test_admin_pages_need_no_inline_script(client: Client, pages: dict[str, str]) -> None:
    client.force_login(StaffFactory.create(superuser=True))
    project = Project.objects.get(slug=SEED_SLUG)
    for url in [
        "/admin/",
        "/admin/projects/project/",
        f"/admin/projects/project/{project.pk}/change/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        # The change page's rich-text editor (django-prose-editor) needs its import map:
        # exactly that one is allowed, by hash (projects/services/editor.py).
        extra = [prose_editor_importmap_hash()] if url.endswith("/change/") else []
        assert csp_directives(response).get("script-src") == ["'self'", *extra], url
        assert inline_code(response.content.decode()) == [], url


def test_donor_pages_are_private_and_not_stored(client: Client, pages: dict[str, str]) -> None:
    donation = Donation.objects.get()
    for url in [pages["thanks"], f"/donations/{donation.pk}/status.json", pages["test checkout"]]:
        response = client.get(url)
        assert response.status_code == 200, url
        cache_control = {d.strip() for d in response.headers.get("Cache-Control", "").split(",")}
        assert {"private", "no-store"} <= cache_control, (url, cache_control)
    # A form shown again with an error repeats the donor's name and email.
    response = client.post(
        f"/projects/{SEED_SLUG}/donate/",
        {"preset": "", "donor_name": "Ana Quispe", "donor_email": "ana@example.org"},
    )
    assert response.status_code == 400
    assert b"ana@example.org" in response.content
    assert "no-store" in response.headers["Cache-Control"]
    # Public pages stay cacheable by the browser (the check above is not a blanket setting).
    assert "no-store" not in client.get(pages["detail"]).headers.get("Cache-Control", "")
