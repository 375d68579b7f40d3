"""The admin's rich-text editor for section bodies, in a real browser, under the site's
Content-Security-Policy: an editor formats text with the toolbar and the page shows it,
still cleaned by nh3."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from projects.models import Section
from projects.services.demo import SEED_SLUG
from tests.browser.conftest import DESKTOP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "an-editor-pass-5531"


@pytest.fixture
def fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_an_editor_formats_a_section_with_the_rich_text_editor(
    live_server: Any, demo: Any, new_page: Any, shot: Any, fast_hashing: None
) -> None:
    editor = User.objects.create_user("ed", password=PASSWORD, is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    page = new_page(DESKTOP)
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("ed")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/projects/project/{demo.pk}/change/")

    section = Section.objects.filter(project=demo).order_by("order").first()
    assert section is not None
    # Each language has its own editor (body_en, body_es): the English one here.
    editable = page.locator("#sections-0 .field-body_en [contenteditable=true]")
    expect(editable).to_be_visible()
    expect(editable).to_contain_text("This territory is critical")
    shot(page, "admin-section-editor")

    editable.click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.press("Control+b")
    page.keyboard.type("Surveys start in May.")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    section.refresh_from_db()
    assert "<strong>Surveys start in May.</strong>" in section.body
    assert "<script" not in section.body and "style=" not in section.body
    public = new_page(DESKTOP)
    public.goto(f"{live_server.url}/projects/{SEED_SLUG}/")
    public.locator("section.long-section").first.get_by_text("Read more").click()
    expect(public.locator(".rich-text strong").first).to_have_text("Surveys start in May.")
    assert page.js_errors == [], page.js_errors  # nothing the Content-Security-Policy blocked
