"""The seed project's page and fact sheet in a real browser, at phone and desktop widths."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from projects.services.demo import SECTIONS, SEED_SLUG, SPECIES
from tests.browser.conftest import DESKTOP, MOBILE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _check_facts(page: Any, project: Any) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(project.title)
    expect(page.get_by_test_id("cost")).to_have_text("$303,600")
    expect(page.get_by_test_id("raised")).to_have_text("$0")
    bar = page.get_by_role("progressbar", name="Funding raised")
    expect(bar).to_have_attribute("aria-valuenow", "0.0")
    expect(bar).to_have_attribute("aria-valuemin", "0")
    expect(bar).to_have_attribute("aria-valuemax", "100")
    expect(bar).to_have_attribute("aria-valuetext", "$0 of $303,600 raised (0%)")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("285,288")
    expect(facts).to_contain_text("$1.17")
    species = facts.locator("ul.species > li")
    expect(species).to_have_count(len(SPECIES))
    for (common, scientific, category), item in zip(SPECIES, species.all(), strict=True):
        expect(item).to_contain_text(common)
        expect(item.locator("i")).to_have_text(f"({scientific})")
        expect(item.locator("abbr.iucn")).to_have_text(category)


def test_project_pages(live_server: Any, demo: Any, new_page: Any, shot: Any) -> None:
    url = f"{live_server.url}/projects/{SEED_SLUG}/"
    for name, viewport in (("mobile", MOBILE), ("desktop", DESKTOP)):
        page = new_page(viewport)
        response = page.goto(url)
        assert response is not None and response.status == 200
        _check_facts(page, demo)
        expect(page.locator("li.acres")).to_have_text("285,288 acres to protect")
        expect(page.get_by_test_id("price-per-acre")).to_have_text("$1.17 per acre")
        summary = page.get_by_role("region", name="Summary")
        expect(summary).to_contain_text("seek $303,600 to designate 285,288 acres")

        # Every figure uses the price per acre the page shows ($1.17, the staff figure), and
        # says "about" where it rounds: $50 / $1.17 = 42.7 acres.
        calc = page.get_by_test_id("calc-output")
        expect(calc).to_have_text("$50 protects about 43 acres")  # the server's default figure
        gift = page.get_by_label("Gift amount (USD)")
        error = page.locator("#calc-error")
        for typed, text in (
            ("100", "$100 protects about 85 acres"),
            ("50", "$50 protects about 43 acres"),
            ("12.5", "$12.50 protects about 11 acres"),
            ("5", "$5 protects about 4.3 acres"),
            ("1.17", "$1.17 protects 1 acre"),
            ("500000", "$500,000 would fund the whole project: all 285,288 acres"),
        ):
            gift.fill(typed)
            expect(calc).to_have_text(text)  # updated by project.js as the donor types
            expect(error).to_be_hidden()
        # Nonsense gets the server's own message and no result (never a stale one).
        for typed, message in (
            ("0", "Enter an amount of at least 1."),
            ("-5", "Enter an amount in numbers, such as 50 or 25.50."),
            ("abc", "Enter an amount in numbers, such as 50 or 25.50."),
            ("1e9", "Enter an amount in numbers, such as 50 or 25.50."),
            ("1000000000", "Enter an amount of at most 10,000,000."),
        ):
            gift.fill(typed)
            expect(error).to_have_text(message)
            expect(calc).to_have_text("")
            expect(gift).to_have_attribute("aria-invalid", "true")
        # The presets agree with the calculator, amount for amount.
        for preset in page.locator("form.donate-form label.preset").all()[:-1]:
            amount = preset.locator("input").get_attribute("value")
            gift.fill(amount)
            acres = re.search(r"protects (?:about )?([\d,.]+) acres", calc.inner_text())
            assert acres, calc.inner_text()
            expect(preset).to_contain_text(f"protects about {acres.group(1)} acres")
        # Without JS the same form asks the server, which must agree with the script.
        gift.fill("5")
        page.locator("#calculator").get_by_role("button", name="Calculate").click()
        expect(page).to_have_url(re.compile(r"\?gift=5#calculator$"))
        expect(calc).to_have_text("$5 protects about 4.3 acres")
        expect(gift).to_have_value("5")

        sections = page.locator("section.long-section")
        expect(sections).to_have_count(len(SECTIONS))
        for (title, _lead, _body), section in zip(SECTIONS, sections.all(), strict=True):
            expect(section.get_by_role("heading", level=2)).to_have_text(title)
            body = section.locator(".rich-text")
            expect(body).to_be_hidden()
            section.get_by_text("Read more").click()
            expect(section.locator("details")).to_have_attribute("open", "")
            expect(body).to_be_visible()
            expect(section.locator("summary")).to_contain_text("Show less")
        expect(sections.first.locator(".rich-text")).to_contain_text("Trueb’s Cochran Frog")
        # The first section's lead is the start of its body: once open, it is not read twice.
        expect(sections.first.locator(".lead")).to_be_hidden()
        expect(sections.nth(1).locator(".lead")).to_be_visible()  # a lead of its own

        assert page.js_errors == []
        shot(page, f"project-{name}")

    page = new_page(DESKTOP)
    page.goto(f"{url}fact-sheet/")
    expect(page).to_have_title(f"Fact sheet: {demo.title}")
    _check_facts(page, demo)
    expect(page.get_by_text("Threats", exact=True)).to_be_visible()
    print_button = page.get_by_role("button", name="Print this fact sheet")
    expect(print_button).to_be_visible()
    page.evaluate("window.print = function () { window.printed = true; }")
    print_button.click()
    assert page.evaluate("window.printed === true"), page.js_errors
    shot(page, "fact-sheet-screen")
    page.emulate_media(media="print")
    expect(print_button).to_be_hidden()  # .no-print
    expect(page.get_by_role("progressbar", name="Funding raised")).to_be_visible()
    shot(page, "fact-sheet-print")
    assert page.js_errors == []
