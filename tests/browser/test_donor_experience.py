"""What a donor meets on the project page, in a real browser: the donate panel in view, the
phone's Donate bar, the thermometer moving live, the error summary, a cancelled checkout,
the amount's live checks, and the whole form walked with the keyboard alone."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from donations.models import Donation
from projects.services.demo import SEED_SLUG
from tests.browser.conftest import DESKTOP, MOBILE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _url(live_server: Any) -> str:
    return f"{live_server.url}/projects/{SEED_SLUG}/"


def _box(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return dict(box)


def test_desktop_donate_panel_is_in_the_first_screen_and_stays_in_view(
    live_server: Any, demo: Any, new_page: Any, shot: Any
) -> None:
    page = new_page(DESKTOP)
    page.goto(_url(live_server))
    heading = page.get_by_role("heading", name="Give to this project")
    expect(heading).to_be_in_viewport()
    first_preset = page.locator("form.donate-form label.preset").first.bounding_box()
    assert first_preset is not None
    assert first_preset["y"] + first_preset["height"] <= DESKTOP["height"], first_preset
    expect(page.get_by_test_id("donate-bar")).to_be_hidden()  # phones only
    shot(page, "donor-desktop-first-screen")

    # Deep in the story the panel is still on screen (sticky), beside the text.
    page.locator("section.gallery").scroll_into_view_if_needed()
    expect(page.locator("section.gallery")).to_be_in_viewport()
    expect(heading).to_be_in_viewport()
    panel = _box(page, ".project-side")
    story = _box(page, ".project-main")
    assert panel["x"] > story["x"] + story["width"], (panel, story)  # side by side
    assert panel["y"] >= 0 and panel["y"] + panel["height"] <= DESKTOP["height"] + 1
    expect(page.get_by_role("button", name="Donate")).to_be_in_viewport()
    page.screenshot(
        path=str(shot(page, "donor-desktop-scrolled").with_name("donor-desktop-scrolled-view.png"))
    )
    assert page.js_errors == []


def test_phone_has_a_sticky_donate_bar_that_takes_the_donor_to_the_form(
    live_server: Any, demo: Any, new_page: Any, shot: Any
) -> None:
    page = new_page(MOBILE)
    page.goto(_url(live_server))
    bar = page.get_by_test_id("donate-bar")
    expect(bar).to_be_visible()
    expect(bar).to_be_in_viewport()
    box = _box(page, "[data-testid=donate-bar]")
    assert box["y"] + box["height"] == pytest.approx(MOBILE["height"], abs=1)  # at the bottom
    # The form begins within one swipe (a screen) of the first one.
    assert _box(page, "#donate")["y"] < 2 * MOBILE["height"]
    page.screenshot(
        path=str(shot(page, "donor-mobile-full").with_name("donor-mobile-first-screen.png"))
    )

    page.mouse.wheel(0, 2500)  # deep in the story: the bar is still there
    expect(bar).to_be_in_viewport()
    bar.get_by_role("link", name="Donate").click()
    expect(page.get_by_role("heading", name="Give to this project")).to_be_in_viewport()
    expect(page.locator("#donate")).to_be_focused()
    expect(bar).to_be_hidden()  # steps aside while the form is on screen
    page.screenshot(path=str(shot(page, "donor-mobile-full").with_name("donor-mobile-at-form.png")))
    assert page.js_errors == []


@pytest.mark.parametrize(("size", "viewport"), [("mobile", MOBILE), ("desktop", DESKTOP)])
def test_a_gift_in_one_browser_moves_the_thermometer_in_another_without_a_reload(
    live_server: Any, demo: Any, new_page: Any, shot: Any, size: str, viewport: Any
) -> None:
    url = _url(live_server)
    watcher = new_page(viewport)
    watcher.goto(url)
    expect(watcher.get_by_test_id("raised")).to_have_text("$0")
    expect(watcher.get_by_test_id("donor-count")).to_have_text("0")
    watcher.evaluate("() => { window.notReloaded = true; }")

    giver = new_page(DESKTOP if viewport is MOBILE else MOBILE)
    giver.goto(url)
    form = giver.locator("form.donate-form")
    form.locator("input[name=preset][value='100']").check()
    form.get_by_label("Your name").fill("Live Donor")
    form.get_by_label("Email (for your receipt)").fill("live@example.org")
    form.get_by_role("button", name="Donate").click()
    giver.get_by_role("button", name="Pay (test: succeeds)").click()
    expect(giver.get_by_test_id("gift-status")).to_contain_text("Confirmed", timeout=20_000)
    paid = time.monotonic()

    # Within 5 seconds, with no reload: the total, the donors, the match left, the bar.
    expect(watcher.get_by_test_id("raised")).to_have_text("$200", timeout=5_000)
    assert time.monotonic() - paid < 5
    expect(watcher.get_by_test_id("donor-count")).to_have_text("1")
    expect(watcher.get_by_test_id("matched")).to_have_text("$100")
    expect(watcher.get_by_test_id("match-remaining")).to_have_text(
        "$49,900 of matching funds remain."
    )
    expect(watcher.get_by_role("progressbar", name="Funding raised")).to_have_attribute(
        "aria-valuetext", "$200 of $303,600 raised (less than 0.1%)"
    )
    expect(watcher.locator("#totals-live")).to_have_text(
        "$200 raised of $303,600 from 1 donor. $49,900 of matching funds remain."
    )
    # 0.07% still shows on the bar: a visible minimum, donors' and matched parts.
    assert _box(watcher, ".bar-donors")["width"] >= 5
    assert _box(watcher, ".bar-matched")["width"] >= 5
    expect(watcher.get_by_test_id("donate-bar")).to_contain_text("less than 0.1% funded")
    assert watcher.evaluate("() => window.notReloaded") is True
    shot(watcher, f"donor-thermometer-live-{size}")
    assert watcher.js_errors == [] and giver.js_errors == []


def test_the_thermometer_endpoint_is_small_and_cacheable(
    live_server: Any, demo: Any, new_page: Any
) -> None:
    page = new_page(DESKTOP)
    response = page.request.get(f"{live_server.url}/projects/{SEED_SLUG}/totals.json")
    assert response.status == 200
    assert response.headers["cache-control"] == "public, max-age=2"
    data = response.json()
    assert data["raised"] == "0.00" and data["donor_count"] == 0
    assert data["match_remaining"] == "$50,000"
    assert 'data-testid="raised">$0<' in data["html"]
    assert len(response.body()) < 4000
    assert page.request.get(f"{live_server.url}/projects/nope/totals.json").status == 404


@pytest.mark.parametrize(("size", "viewport"), [("mobile", MOBILE), ("desktop", DESKTOP)])
def test_a_server_side_error_takes_focus_and_links_to_each_field(
    live_server: Any, demo: Any, new_page: Any, shot: Any, size: str, viewport: Any
) -> None:
    page = new_page(viewport)
    page.goto(_url(live_server))
    form = page.locator("form.donate-form")
    # Live checks first: an Other amount replaces the preset, and a refused amount says so
    # at once without a "becomes" promise.
    preset_50 = form.locator("input[name=preset][value='50']")
    expect(preset_50).to_be_checked()
    other = form.get_by_label("Other amount")
    other.fill("12.345")
    expect(preset_50).not_to_be_checked()
    expect(form.locator("input[name=preset][value=other]")).to_be_checked()
    expect(page.get_by_test_id("amount-live")).to_have_text(
        "USD amounts have at most 2 decimal places."
    )
    expect(page.locator("#match-live")).to_have_text("")
    other.fill("1000000")
    expect(page.get_by_test_id("amount-live")).to_have_text(
        "Online gifts are limited to 100,000 USD; please contact us for larger gifts."
    )
    expect(page.locator("#match-live")).to_have_text("")
    other.fill("")
    expect(preset_50).to_be_checked()  # clearing it brings the preset back
    expect(page.locator("#match-live")).to_have_text("Your $50 becomes $100 with the match.")

    # The server refuses: the error summary is focused and in view, with a link per field.
    other.fill("12.345")
    form.get_by_label("Your name").fill("Ana")
    form.get_by_label("Email (for your receipt)").fill("not-an-email")
    form.get_by_role("button", name="Donate").click()
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(page).to_have_url(re.compile(r"/donate/$"))
    links = summary.get_by_role("link")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_have_text("USD amounts have at most 2 decimal places.")
    expect(links.nth(1)).to_have_text("Enter a valid email address.")
    form = page.locator("form.donate-form")
    expect(form.get_by_label("Your name")).to_have_value("Ana")  # nothing typed is lost
    expect(form.get_by_label("Other amount")).to_have_value("12.345")
    shot(page, f"donor-error-summary-{size}")
    links.nth(1).click()
    expect(form.get_by_label("Email (for your receipt)")).to_be_focused()
    expect(form.get_by_label("Email (for your receipt)")).to_have_attribute("aria-invalid", "true")
    assert Donation.objects.count() == 0
    assert page.js_errors == []


def test_the_error_summary_takes_focus_without_javascript(
    live_server: Any, demo: Any, browser: Any
) -> None:
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(_url(live_server))
        form = page.locator("form.donate-form")
        form.locator("input[name=preset][value='50']").check()
        form.get_by_label("Email (for your receipt)").fill("a@example.org")
        form.get_by_role("button", name="Donate").click()
        summary = page.locator("#error-summary")
        expect(summary).to_be_focused()  # autofocus
        expect(summary).to_be_in_viewport()  # autofocus scrolls it into view
        expect(summary).to_contain_text("This field is required.")
    finally:
        context.close()


@pytest.mark.parametrize(("size", "viewport"), [("mobile", MOBILE), ("desktop", DESKTOP)])
def test_a_cancelled_checkout_says_no_money_was_taken_and_keeps_the_form(
    live_server: Any, demo: Any, new_page: Any, shot: Any, size: str, viewport: Any
) -> None:
    page = new_page(viewport)
    page.goto(_url(live_server))
    form = page.locator("form.donate-form")
    form.locator("input[name=preset][value='100']").check()
    form.locator("input[name=frequency][value=monthly]").check()
    form.get_by_label("Your name").fill("Carla Díaz")
    form.get_by_label("Email (for your receipt)").fill("carla@example.org")
    page.get_by_text("Options: anonymous").click()
    form.get_by_label("Cover the processing fee").check()
    form.get_by_label("Public message (optional)").fill("For the frogs")
    form.get_by_role("button", name="Donate").click()
    expect(page).to_have_title("Test checkout, no money moves")
    page.get_by_role("button", name="Cancel").click()

    expect(page).to_have_url(re.compile(r"\?cancelled=[0-9a-f-]{36}#donate$"))
    notice = page.get_by_test_id("cancelled-notice")
    expect(notice).to_contain_text("You cancelled the payment. No money was taken.")
    expect(notice).to_be_in_viewport()
    form = page.locator("form.donate-form")
    expect(form.locator("input[name=preset][value='100']")).to_be_checked()
    expect(form.locator("input[name=frequency][value=monthly]")).to_be_checked()
    expect(form.get_by_label("Your name")).to_have_value("Carla Díaz")
    expect(form.get_by_label("Email (for your receipt)")).to_have_value("carla@example.org")
    expect(form.get_by_label("Cover the processing fee")).to_be_checked()
    expect(form.get_by_label("Public message (optional)")).to_have_value("For the frogs")
    shot(page, f"donor-cancelled-{size}")

    # And it goes through from there.
    form.get_by_role("button", name="Donate").click()
    expect(page).to_have_title("Test checkout, no money moves")
    assert Donation.objects.filter(donor_email="carla@example.org").count() == 2
    assert page.js_errors == []


def test_a_keyboard_only_walk_through_the_donate_form(
    live_server: Any, demo: Any, new_page: Any
) -> None:
    page = new_page(DESKTOP)
    page.goto(_url(live_server))
    focused = "() => { const e = document.activeElement; return e.id || e.name || e.tagName; }"
    for _ in range(60):  # Tab from the top of the page to the first amount
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.name") == "preset":
            break
    else:
        pytest.fail("Tab never reached the donate form")
    assert page.evaluate("() => document.activeElement.value") == "50"  # the checked one
    page.keyboard.press("ArrowRight")
    expect(page.locator("input[name=preset][value='100']")).to_be_checked()
    # Focus is visible: the chosen amount's card carries a 3px ring.
    ring = page.locator("label.preset", has=page.locator("input[value='100']")).evaluate(
        "l => getComputedStyle(l).outlineStyle + ' ' + getComputedStyle(l).outlineWidth"
    )
    assert ring == "solid 3px"
    order = []
    for _ in range(6):
        page.keyboard.press("Tab")
        order.append(page.evaluate(focused))
    assert order == [
        "id_custom_amount",
        "id_currency",
        "id_frequency_0",
        "id_donor_name",
        "id_donor_email",
        "SUMMARY",
    ], order
    page.keyboard.press("Shift+Tab")
    page.keyboard.type("keys@example.org")
    page.keyboard.press("Shift+Tab")
    page.keyboard.type("Kay Board")
    ring = page.evaluate(
        "() => getComputedStyle(document.activeElement).outlineStyle + ' ' +"
        " getComputedStyle(document.activeElement).outlineWidth"
    )
    assert ring == "solid 3px"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # opens the options
    expect(page.locator("details.options")).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # anonymous
    expect(page.get_by_label("Show my gift as anonymous")).to_be_checked()
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.className") == "donate-button":
            break
    page.keyboard.press("Enter")
    expect(page).to_have_title("Test checkout, no money moves")
    expect(page.get_by_test_id("checkout-amount")).to_have_text("$100")
    gift = Donation.objects.get(donor_email="keys@example.org")
    assert gift.donor_name == "Kay Board" and gift.anonymous
    assert page.js_errors == []
