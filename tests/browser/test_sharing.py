"""Sharing in a real browser: a gift through a shared link reaches the thank-you page, whose
share links carry the new donor's code; the copy button copies it (static/js/share.js, no
inline script), and the referral is on the gift."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from donations.models import Donation
from projects.services.demo import SEED_SLUG
from tests.browser.conftest import MOBILE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_shared_link_gift_and_the_thank_you_share_links(
    live_server: Any, demo: Any, new_page: Any, shot: Any, settings: Any
) -> None:
    settings.SITE_URL = live_server.url
    page = new_page(MOBILE)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{live_server.url}/projects/{SEED_SLUG}/?ref=facebook")
    form = page.locator("form.donate-form")
    expect(form.locator("input[name=ref]")).to_have_value("facebook")
    form.get_by_label("Your name").fill("Rosa Mamani")
    form.get_by_label("Email (for your receipt)").fill("rosa@example.org")
    form.get_by_role("button", name="Donate").click()
    page.get_by_role("button", name=re.compile("succeed", re.I)).click()
    expect(page).to_have_url(re.compile(r"/donations/[0-9a-f-]{36}/thanks/$"))
    expect(page.get_by_test_id("gift-status")).to_contain_text("Confirmed")

    gift = Donation.objects.get(donor_email="rosa@example.org")
    assert (gift.referral_channel, gift.referral_code) == ("facebook", "facebook")
    assert gift.share_code

    share = page.get_by_test_id("share")
    expect(share.get_by_role("heading")).to_have_text("Tell your friends")
    for name in ["Email", "WhatsApp", "Facebook", "X"]:
        expect(share.get_by_role("link", name=re.compile(f"^{name}"))).to_be_visible()
    button = share.get_by_role("button", name="Copy link")
    expect(button).to_be_visible()  # shown by share.js
    button.click()
    expect(share.get_by_role("status")).to_have_text("Link copied.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == f"{live_server.url}/projects/{SEED_SLUG}/?ref=link-{gift.share_code}"
    assert parse_qs(urlsplit(copied).query)["ref"] == [f"link-{gift.share_code}"]
    shot(page, "share-thanks-mobile")
    assert page.js_errors == []
