"""In a real browser: a donor unsubscribes from all updates on the email's link page, then
signs in to My gifts and turns updates back on with its form; an editor sends a test to
themself and publishes from the admin's publish page."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from playwright.sync_api import expect

from donations.services.signin import sign_in_link_create
from stewardship.models import Update, UpdateConsent
from tests.browser.conftest import DESKTOP
from tests.stewardship.helpers import donor, update_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "an-editor-pass-3391"


def test_a_donor_unsubscribes_and_subscribes_again(
    live_server: Any, demo: Any, new_page: Any
) -> None:
    donor(demo, "walker@example.org")
    update = update_make(demo)
    from stewardship.services.publishing import update_publish
    from stewardship.tasks import fan_out_start

    update_publish(update_id=update.pk, fan_out=fan_out_start)
    (message,) = [m for m in mail.outbox if "List-Unsubscribe" in m.extra_headers]
    path = urlsplit(message.extra_headers["List-Unsubscribe"].strip("<>")).path
    page = new_page(DESKTOP)
    page.goto(f"{live_server.url}{path}")
    page.get_by_label("All project updates").check()
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_test_id("unsubscribed")).to_contain_text("no more project updates")
    assert UpdateConsent.objects.get().project_id is None

    link = urlsplit(sign_in_link_create(email="walker@example.org", language="en")).path
    page.goto(f"{live_server.url}{link}")
    page.get_by_role("button", name="Sign in").click()  # the link's page confirms first
    box = page.get_by_label("Send me project updates")
    expect(box).not_to_be_checked()
    box.check()
    page.get_by_role("button", name="Save my choice").click()
    expect(page.get_by_label("Send me project updates")).to_be_checked()
    assert UpdateConsent.objects.order_by("-created_at", "-id").first().subscribed  # type: ignore[union-attr]
    assert page.js_errors == []


def test_an_editor_tests_and_publishes(
    live_server: Any, demo: Any, new_page: Any, settings: Any
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    editor = User.objects.create_user(
        "ed", email="ed@example.org", password=PASSWORD, is_staff=True
    )
    editor.groups.add(Group.objects.get(name="Editors"))
    donor(demo, "reader@example.org")
    update = update_make(demo)
    page = new_page(DESKTOP)
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("ed")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/stewardship/update/{update.pk}/publish/")
    expect(page.get_by_test_id("recipient-count")).to_contain_text("1")
    page.get_by_role("button", name=re.compile("Send a test to me")).click()
    expect(page.locator(".messagelist")).to_contain_text("1 test email sent to ed@example.org")
    assert [m.to for m in mail.outbox] == [["ed@example.org"]]
    page.get_by_role("button", name=re.compile("^Publish")).click()
    expect(page.locator(".messagelist")).to_contain_text("Published; 1 emails queued")
    update.refresh_from_db()
    assert update.status == Update.Status.PUBLISHED
    assert sorted(m.to[0] for m in mail.outbox) == ["ed@example.org", "reader@example.org"]
