"""axe-core (WCAG 2.2 A and AA) on every public page, at phone and desktop widths.

Every page a donor can reach is visited in the state that shows the most: the project page
with every section opened, the donate form after the server refused it, the test checkout,
and the thank-you page confirmed and failed. Pages added later belong in PAGES or in a test
of their own that calls the ``axe`` fixture."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from donations.models import Donation
from projects.services.demo import SEED_SLUG
from tests.browser.conftest import DESKTOP, MOBILE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = (("mobile", MOBILE), ("desktop", DESKTOP))


def _start_gift(page: Any, url: str, email: str) -> None:
    page.goto(url)
    form = page.locator("form.donate-form")
    form.locator("input[name=preset][value='25']").check()
    form.get_by_label("Your name").fill("Axe Tester")
    form.get_by_label("Email (for your receipt)").fill(email)
    form.get_by_role("button", name="Donate").click()
    expect(page).to_have_title("Test checkout, no money moves")


@pytest.mark.parametrize(("size", "viewport"), SIZES, ids=[s for s, _ in SIZES])
def test_public_pages_have_no_axe_violations(
    live_server: Any, demo: Any, new_page: Any, shot: Any, axe: Any, size: str, viewport: Any
) -> None:
    project_url = f"{live_server.url}/projects/{SEED_SLUG}/"
    page = new_page(viewport)

    page.goto(f"{live_server.url}/projects/")
    assert axe(page, "project list") > 0
    shot(page, f"a11y-list-{size}")

    page.goto(project_url)
    for details in page.locator("details").all():
        details.evaluate("d => { d.open = true; }")
    axe(page, "project page, every disclosure open")
    shot(page, f"a11y-project-open-{size}")

    page.goto(live_server.url + reverse("how_gifts_are_used"))
    axe(page, "how your gift is used")

    page.goto(f"{project_url}fact-sheet/")
    axe(page, "fact sheet")
    shot(page, f"a11y-fact-sheet-{size}")

    # The server refuses the form: the error state.
    page.goto(project_url)
    form = page.locator("form.donate-form")
    form.locator("input[name=preset][value='other']").check()
    form.get_by_label("Other amount").fill("0.10")
    form.get_by_label("Email (for your receipt)").fill("not an email")
    form.get_by_role("button", name="Donate").click()
    expect(page.locator(".error").first).to_be_visible()
    axe(page, "donate form with server-side errors")
    shot(page, f"a11y-donate-errors-{size}")

    # Test checkout, then a confirmed and a failed thank-you page.
    _start_gift(page, project_url, f"ok-{size}@example.org")
    axe(page, "test checkout")
    shot(page, f"a11y-test-checkout-{size}")
    page.get_by_role("button", name="Pay (test: succeeds)").click()
    expect(page.get_by_test_id("gift-status")).to_contain_text("Confirmed", timeout=20_000)
    axe(page, "thank-you, confirmed")
    shot(page, f"a11y-thanks-confirmed-{size}")

    _start_gift(page, project_url, f"fail-{size}@example.org")
    page.get_by_role("button", name="Payment fails").click()
    expect(page.get_by_test_id("gift-status")).to_contain_text("Payment failed", timeout=20_000)
    axe(page, "thank-you, failed")
    shot(page, f"a11y-thanks-failed-{size}")

    # A thank-you page still processing (opened before paying).
    _start_gift(page, project_url, f"wait-{size}@example.org")
    gift = Donation.objects.get(donor_email=f"wait-{size}@example.org")
    page.goto(live_server.url + reverse("donations:thanks", args=[gift.pk]))
    expect(page.get_by_test_id("gift-status")).to_contain_text("Processing")
    axe(page, "thank-you, processing")
    assert page.js_errors == []
