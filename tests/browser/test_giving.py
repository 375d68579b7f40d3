"""Giving in a real browser: the donate form, the local test checkout, the signed webhook
(delivered in-process), the thank-you page and the thermometer, with the demo's 2X match."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from djmoney.money import Money
from playwright.sync_api import expect

from donations.models import Donation, MatchingPool
from projects.services.demo import SEED_SLUG
from tests.browser.conftest import DESKTOP, MOBILE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SPONSOR = "Andes Amazon Fund (demo sponsor)"
THANKS_URL = re.compile(r"/donations/[0-9a-f-]{36}/thanks/$")


def _give(page: Any, *, name: str, email: str, preset: str, custom: str = "") -> None:
    """Fill the donate form on the project page and submit it."""
    form = page.locator("form.donate-form")
    form.locator(f"input[name=preset][value='{preset}']").check()
    if custom:
        form.get_by_label("Other amount").fill(custom)
    form.get_by_label("Your name").fill(name)
    form.get_by_label("Email (for your receipt)").fill(email)
    form.get_by_role("button", name="Donate").click()


def _key_line_gap(page: Any, key: str) -> float:
    """Vertical distance between a thermometer colour key and the start of the amount it
    marks: about zero on one line, a line height or more when the key ends a line alone."""
    return float(
        page.locator(f".thermometer-text .key-{key}").evaluate(
            """k => {
                const r = document.createRange();
                r.selectNode(k.nextSibling);
                const amount = r.getClientRects()[0], box = k.getBoundingClientRect();
                return Math.abs((amount.top + amount.bottom) / 2 - (box.top + box.bottom) / 2);
            }"""
        )
    )


def _on_test_checkout(page: Any, amount: str) -> None:
    expect(page).to_have_title("Test checkout, no money moves")
    expect(page.locator(".test-checkout")).to_contain_text("Test checkout, no money moves.")
    expect(page.get_by_test_id("checkout-amount")).to_have_text(amount)


def test_donation_flow(live_server: Any, demo: Any, new_page: Any, shot: Any) -> None:
    url = f"{live_server.url}/projects/{SEED_SLUG}/"
    page = new_page(DESKTOP)
    page.goto(url)

    # load_demo opened a $50,000 1:1 pool for the seed project.
    banner = page.get_by_test_id("match-banner")
    expect(banner.get_by_role("heading", level=3)).to_have_text("2X The Impact")
    expect(banner).to_contain_text(SPONSOR)
    expect(page.get_by_test_id("match-remaining")).to_have_text("$50,000 of matching funds remain.")
    live = page.locator("#match-live")
    expect(live).to_have_text("Your $50 becomes $100 with the match.")  # the default preset

    page.locator("form.donate-form input[name=preset][value='100']").check()
    expect(live).to_have_text("Your $100 becomes $200 with the match.")
    preset_100 = page.locator("label.preset", has=page.locator("input[value='100']"))
    expect(preset_100.get_by_test_id("becomes")).to_have_text("becomes $200")
    page.get_by_label("Other amount").fill("70")
    expect(live).to_have_text("Your $70 becomes $140 with the match.")
    page.get_by_label("Other amount").fill("")
    expect(live).to_have_text("Your $100 becomes $200 with the match.")
    shot(page, "flow-1-project-2x")

    _give(page, name="Ana Torres", email="ana@example.org", preset="100")
    _on_test_checkout(page, "$100")
    shot(page, "flow-2-test-checkout")

    # The thank-you page opened before the payment says "Processing" and polls the status
    # (thanks.js) until the webhook path has confirmed the gift, then reloads itself.
    gift = Donation.objects.get(donor_email="ana@example.org")
    # The press carried the key the browser made (static/js/donate-key.js): a version-4 UUID.
    assert gift.idempotency_key is not None and gift.idempotency_key.version == 4
    watcher = new_page(MOBILE)
    watcher.goto(live_server.url + reverse("donations:thanks", args=[gift.pk]))
    expect(watcher.get_by_test_id("gift-status")).to_contain_text("Processing")
    expect(watcher.locator(".thanks")).to_have_attribute("data-final", "false")
    shot(watcher, "flow-2b-thanks-processing")

    page.get_by_role("button", name="Pay (test: succeeds)").click()
    expect(page).to_have_url(THANKS_URL)
    expect(page.get_by_test_id("gift-status")).to_contain_text("Confirmed", timeout=20_000)
    expect(watcher.get_by_test_id("gift-status")).to_contain_text("Confirmed", timeout=20_000)
    expect(watcher.get_by_test_id("thanks-match")).to_have_text(f"+$100 from {SPONSOR}.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, Ana Torres!")
    expect(page.locator(".thanks")).to_have_attribute("data-final", "true")
    expect(page.get_by_test_id("thanks-match")).to_have_text(f"+$100 from {SPONSOR}.")
    shot(page, "flow-3-thanks-confirmed")

    gift.refresh_from_db()
    assert gift.status == Donation.Status.SUCCEEDED
    pool = MatchingPool.objects.get(sponsor_name=SPONSOR)
    assert pool.allocated == Decimal("100")

    page.get_by_role("link", name="Back to the project").click()
    expect(page).to_have_url(url)
    expect(page.get_by_test_id("raised")).to_have_text("$200")  # the gift plus its match
    expect(page.get_by_test_id("matched")).to_have_text("$100")
    expect(page.locator(".thermometer-text")).to_have_text("$100 from donors and $100 matched")
    expect(page.get_by_test_id("percent")).to_have_text("less than 0.1%")
    expect(page.get_by_test_id("donor-count")).to_have_text("1")
    expect(page.get_by_test_id("remaining")).to_have_text("$303,400")
    expect(page.locator(".bar-matched")).to_have_count(1)
    expect(page.get_by_role("progressbar", name="Funding raised")).to_have_attribute(
        "aria-valuetext", "$200 of $303,600 raised (less than 0.1%)"
    )
    expect(page.get_by_test_id("match-remaining")).to_have_text("$49,900 of matching funds remain.")
    expect(page.get_by_role("region", name="Recent supporters")).to_contain_text(
        "Ana Torres gave $100"
    )
    shot(page, "flow-4-project-after-gift")

    # A gift as large as what is left of the match spends the pool.
    page.get_by_label("Other amount").fill("49900")
    expect(live).to_have_text("Your $49,900 becomes $99,800 with the match.")
    _give(page, name="Big Donor", email="big@example.org", preset="other", custom="49900")
    _on_test_checkout(page, "$49,900")
    page.get_by_role("button", name="Pay (test: succeeds)").click()
    expect(page).to_have_url(THANKS_URL)
    expect(page.get_by_test_id("gift-status")).to_contain_text("Confirmed", timeout=20_000)
    expect(page.get_by_test_id("thanks-match")).to_have_text(f"+$49,900 from {SPONSOR}.")
    shot(page, "flow-5-thanks-pool-spent")

    pool.refresh_from_db()
    assert pool.allocated == pool.cap.amount == Decimal("50000")

    page.get_by_role("link", name="Back to the project").click()
    expect(page.get_by_test_id("raised")).to_have_text("$100,000")
    expect(page.get_by_test_id("matched")).to_have_text("$50,000")
    expect(page.locator(".thermometer-text")).to_have_text(
        "$50,000 from donors and $50,000 matched"
    )
    expect(page.get_by_test_id("percent")).to_have_text("32%")  # 32.9%: never rounded up
    expect(page.get_by_test_id("donor-count")).to_have_text("2")
    expect(page.get_by_test_id("remaining")).to_have_text("$203,600")
    # Each colour key stays on its amount's line (the text's lines are about 22 px apart).
    assert _key_line_gap(page, "donors") < 8
    assert _key_line_gap(page, "matched") < 8
    expect(page.get_by_role("progressbar", name="Funding raised")).to_have_attribute(
        "aria-valuenow", "32.9"
    )
    # The match is spent: no banner, no note, no "becomes" on the presets, no live text.
    expect(page.get_by_test_id("match-banner")).to_have_count(0)
    expect(page.get_by_test_id("becomes")).to_have_count(0)
    expect(page.locator("#match-live")).to_have_count(0)
    assert page.locator("form.donate-form").get_attribute("data-match-pools") is None
    shot(page, "flow-6-project-match-spent")
    assert page.js_errors == []


def test_donation_failed(live_server: Any, demo: Any, new_page: Any, shot: Any) -> None:
    url = f"{live_server.url}/projects/{SEED_SLUG}/"
    page = new_page(MOBILE)
    page.goto(url)
    _give(page, name="Bea Ruiz", email="bea@example.org", preset="25")
    _on_test_checkout(page, "$25")
    page.get_by_role("button", name="Payment fails").click()

    expect(page).to_have_url(THANKS_URL)
    expect(page.get_by_test_id("gift-status")).to_contain_text("Payment failed", timeout=20_000)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your gift was not completed")
    expect(page.locator("#status-explainer")).to_contain_text("No money was taken.")
    expect(page.get_by_test_id("thanks-match")).to_have_count(0)
    shot(page, "failed-1-thanks")

    assert Donation.objects.get(donor_email="bea@example.org").status == Donation.Status.FAILED
    assert MatchingPool.objects.get(sponsor_name=SPONSOR).allocated == 0

    page.get_by_role("link", name="Try again").click()
    expect(page).to_have_url(f"{url}#donate")
    expect(page.get_by_test_id("raised")).to_have_text("$0")
    expect(page.get_by_test_id("match-remaining")).to_have_text("$50,000 of matching funds remain.")
    expect(page.get_by_role("button", name="Donate")).to_be_visible()
    assert page.js_errors == []


def test_changing_currency_swaps_presets_fee_and_match_text(
    live_server: Any, demo: Any, new_page: Any, shot: Any
) -> None:
    """The seed project is in USD, the settlement currency, so every currency is offered:
    the presets, the fee the donor may cover and the match text follow the chosen one."""
    page = new_page(DESKTOP)
    page.goto(f"{live_server.url}/projects/{SEED_SLUG}/")
    form = page.locator("form.donate-form")
    live = page.locator("#match-live")
    fee = page.get_by_test_id("fee-note")
    expect(live).to_have_text("Your $50 becomes $100 with the match.")

    page.select_option("#id_currency", "JPY")
    presets = form.locator("label.preset")
    expect(presets.nth(1)).to_contain_text("¥5,000")
    expect(presets.nth(1)).to_contain_text("acres depend on Stripe's exchange rate")
    expect(form.get_by_test_id("becomes")).to_have_count(0)  # no doubled yen figure
    expect(live).to_have_text(
        "Matched 2X at the rate Stripe settles it (up to $50,000 of match left)."
    )
    expect(fee).to_contain_text("¥")
    shot(page, "currency-jpy")

    page.select_option("#id_currency", "USD")
    expect(presets.nth(1)).to_contain_text("$50")
    expect(presets.nth(1)).to_contain_text("protects about 43 acres")
    expect(live).to_have_text("Your $50 becomes $100 with the match.")
    expect(fee).to_contain_text("$")

    page.select_option("#id_currency", "JPY")
    _give(page, name="Kenji Sato", email="kenji@example.org", preset="10000")
    _on_test_checkout(page, "¥10,000")
    gift = Donation.objects.get(donor_email="kenji@example.org")
    assert gift.amount == Money(10000, "JPY") and gift.status == Donation.Status.PENDING
