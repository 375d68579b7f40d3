"""In a real browser, with axe on every page: the Spanish walk (a Spanish browser lands in
Spanish, gives in Spanish and is receipted in Spanish; the switcher goes back to English and
remembers it) and the self-service walk (the emailed link opens My gifts, a monthly gift is
stopped through the test provider's portal, its status changes)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import expect

from donations.models import Donation
from projects.services.demo import SEED_SLUG
from projects.services.demo_es import TITLE as SPANISH_TITLE
from tests.browser.conftest import DESKTOP, MOBILE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"http://[^\s\"<>]+/my-gifts/enter/[^\s\"<>]+/")


def _spanish_page(browser: Any, viewport: dict[str, int]) -> Any:
    """A page whose browser prefers Spanish (Accept-Language: es-PE)."""
    context = browser.new_context(viewport=viewport, locale="es-PE", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    return page


@pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["mobile", "desktop"])
def test_spanish_walk(
    live_server: Any, demo: Any, browser: Any, shot: Any, axe: Any, viewport: Any
) -> None:
    page = _spanish_page(browser, viewport)
    size = "mobile" if viewport is MOBILE else "desktop"
    # First visit to an unprefixed URL: the browser's Spanish is honoured.
    page.goto(f"{live_server.url}/projects/{SEED_SLUG}/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text(SPANISH_TITLE)
    expect(page.get_by_test_id("cost")).to_have_text("303.600\xa0US$")
    expect(page.locator("#match-live")).to_have_text(
        "Tus 50\xa0US$ se convierten en 100\xa0US$ con la igualación."
    )
    for details in page.locator("details").all():
        details.evaluate("d => { d.open = true; }")
    axe(page, "Spanish project page")
    shot(page, f"es-1-project-{size}")

    form = page.locator("form.donate-form")
    form.get_by_label("Otro monto").fill("1.234,50")
    expect(page.get_by_test_id("fee-note")).to_contain_text("suma")
    form.get_by_label("Otro monto").fill("")
    form.locator("input[name=preset][value='25']").check()
    form.get_by_label("Tu nombre").fill("Rosa Huamán")
    form.get_by_label("Correo electrónico (para tu recibo)").fill(f"rosa-{size}@example.org")
    form.get_by_role("button", name="Donar").click()

    expect(page).to_have_title("Caja de prueba, no se mueve dinero")
    expect(page).to_have_url(re.compile(r"/es/donations/test-checkout/"))
    axe(page, "Spanish test checkout")
    page.get_by_role("button", name="Pagar (prueba: se aprueba)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("¡Gracias, Rosa Huamán!")
    expect(page.get_by_test_id("gift-status")).to_contain_text("Confirmada")
    axe(page, "Spanish thank-you page")
    shot(page, f"es-2-thanks-{size}")

    gift = Donation.objects.get(donor_email=f"rosa-{size}@example.org")
    assert gift.language == "es"
    receipt = next(m for m in mail.outbox if m.to == [gift.donor_email])
    assert receipt.subject == f"Gracias por tu donación a {SPANISH_TITLE}"
    assert "Monto: 25\xa0US$" in receipt.body

    # Back to English with the switcher; the choice is remembered over the browser's Spanish.
    page.get_by_test_id("language-en").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(f"{live_server.url}/projects/{SEED_SLUG}/")
    expect(page.get_by_role("button", name="Donate")).to_be_visible()
    page.get_by_test_id("language-es").click()
    expect(page).to_have_url(f"{live_server.url}/es/projects/{SEED_SLUG}/")
    expect(page.get_by_role("button", name="Donar")).to_be_visible()
    assert page.js_errors == []
    page.context.close()


def test_self_service_walk(live_server: Any, demo: Any, new_page: Any, shot: Any, axe: Any) -> None:
    page = new_page(DESKTOP)
    page.goto(f"{live_server.url}/projects/{SEED_SLUG}/")
    form = page.locator("form.donate-form")
    form.locator("input[name=preset][value='25']").check()
    form.locator("input[name=frequency][value='monthly']").check()
    form.get_by_label("Your name").fill("Mo Nthly")
    form.get_by_label("Email (for your receipt)").fill("mo@example.org")
    form.get_by_role("button", name="Donate").click()
    expect(page.get_by_test_id("checkout-amount")).to_contain_text("per month")
    page.get_by_role("button", name="Pay (test: succeeds)").click()
    expect(page.get_by_test_id("gift-status")).to_contain_text("Confirmed")
    manage = page.get_by_role("link", name="Manage your monthly gift")
    expect(manage).to_be_visible()
    manage.click()

    # My gifts: the address is filled in from the link; ask for a sign-in link.
    expect(page.get_by_role("heading", level=1)).to_have_text("My gifts")
    expect(page.get_by_label("Your email address")).to_have_value("mo@example.org")
    axe(page, "My gifts sign-in")
    mail.outbox.clear()
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_test_id("link-sent")).to_contain_text("mo@example.org")
    axe(page, "link sent")
    link = LINK.search(str(mail.outbox[-1].body))
    assert link, mail.outbox[-1].body
    url = re.sub(r"^https?://[^/]+", live_server.url, link.group(0))

    # The link opens a page that says whose gifts it opens; only its button signs in.
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to My gifts")
    expect(page.get_by_test_id("sign-in-as")).to_contain_text("mo@example.org")
    axe(page, "sign in to My gifts")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My gifts")
    expect(page.get_by_test_id("gift-row")).to_have_count(1)
    expect(page.get_by_test_id("plan-status")).to_have_text("Active")
    axe(page, "My gifts")
    shot(page, "self-1-my-gifts")

    page.get_by_role("button", name="Manage this monthly gift").click()
    expect(page).to_have_title("Test customer portal, no money moves")
    axe(page, "test customer portal")
    page.get_by_role("button", name="Stop this monthly gift").click()
    expect(page.get_by_test_id("portal-done")).to_contain_text("stopped")
    page.get_by_role("link", name="Back to My gifts").click()
    expect(page.get_by_test_id("plan-status")).to_have_text("Stopped")
    expect(page.get_by_role("button", name="Manage this monthly gift")).to_have_count(0)
    shot(page, "self-2-stopped")

    # The statement of the year, printable.
    page.get_by_role("link", name=re.compile(r"^Giving statement \d{4}$")).click()
    expect(page.get_by_test_id("statement-line")).to_have_count(1)
    axe(page, "year statement")
    # The link was single use.
    page.goto(url)
    expect(page.get_by_test_id("link-invalid")).to_be_visible()
    assert page.js_errors == []
    plan = Donation.objects.get(donor_email="mo@example.org", parent__isnull=True)
    assert plan.subscription_status == "canceled"
