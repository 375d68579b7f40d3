"""The donate form's live figures are Python's: for a set of amounts, two currencies (one
without minor units), a pool that covers the project and pools partly used up, with the fee
covered and not, what the page's script shows equals giving.fee_to_cover and the match rule
(selectors.MatchOffer.match_for, matching.match_split). Presets read the quotes rendered in
the page; other amounts ask quote.json. The script computes none of it."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest
from django.utils import timezone
from djmoney.money import Money
from playwright.sync_api import expect

from donations.models import MatchingPool
from donations.money import currency_exponent, quantum
from donations.selectors import match_offer
from donations.services.giving import fee_to_cover
from projects.models import Project
from tests.browser.conftest import DESKTOP, SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SYMBOL = {"USD": "$", "JPY": "¥"}
# Presets (50, 5000) come from the page's quotes, the others from quote.json.
AMOUNTS = {
    "USD": ["10", "50", "123.45", "1000"],
    "JPY": ["150", "5000", "12345", "1000000"],
}


def _shown(amount: Decimal, currency: str, *, every_unit: bool) -> str:
    """en-US as Intl.NumberFormat writes it: $1,000 / $123.45 / $1.00 (fee) / ¥12,345."""
    digits = currency_exponent(currency)
    if not every_unit and amount == amount.to_integral_value():
        digits = 0
    return f"{SYMBOL[currency]}{amount:,.{digits}f}"


def _pool(project: Project, *, cap: str, ratio: str, used: str = "0") -> MatchingPool:
    now = timezone.now()
    pool = MatchingPool.objects.create(
        sponsor_name="Sponsor",
        cap=Money(Decimal(cap), project.currency),
        ratio=Decimal(ratio),
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=30),
    )
    pool.projects.add(project)
    # Partly used up by earlier gifts (the figure the allocation keeps on the pool row).
    MatchingPool.objects.filter(pk=pool.pk).update(allocated=Decimal(used))
    return pool


SCENARIOS = {
    # A pool that covers every amount.
    "usd-covered": ("USD", [("1000000", "1", "0")]),
    # Used up but 100.10: 123.45 gets a partial match, the next pool (1:2) goes on, rounded
    # down to the cent; 1000 empties both.
    "usd-partial": ("USD", [("500", "1", "399.90"), ("300", "0.5", "0")]),
    "jpy-covered": ("JPY", [("100000000", "1", "0")]),
    # Whole yen: a 0.5 match of 12,345 yen is 6,172 yen; 1,000,000 yen finds the pool short.
    "jpy-partial": ("JPY", [("900000", "0.5", "450000")]),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_form_shows_the_fee_and_match_python_computes(
    scenario: str, live_server: Any, make_project: Any, new_page: Any
) -> None:
    currency, pools = SCENARIOS[scenario]
    cost = "30000000" if currency == "JPY" else "303600"
    project = make_project(cost=Money(Decimal(cost), currency), acres=Decimal("100000"))
    for cap, ratio, used in pools:
        _pool(project, cap=cap, ratio=ratio, used=used)
    offer = match_offer(project)
    assert offer is not None

    page = new_page(DESKTOP)
    page.goto(live_server.url + project.get_absolute_url())
    form = page.locator("form.donate-form")
    live = page.locator("#match-live")
    fee_note = page.get_by_test_id("fee-note")
    form.locator("summary").click()  # the options, with "cover the fee"
    cover = form.locator("[name=cover_fee]")
    partial = False
    for cover_fee in (False, True):
        cover.set_checked(cover_fee)
        for raw in AMOUNTS[currency]:
            amount = Decimal(raw)
            preset = form.locator(f"input[name=preset][value='{raw}']")
            if preset.count():
                form.get_by_label("Other amount").fill("")
                preset.check()
            else:
                form.get_by_label("Other amount").fill(raw)
            fee = fee_to_cover(Money(amount, currency)).amount
            match = offer.match_for(amount)
            full = (Decimal(pools[0][1]) * amount).quantize(quantum(currency), ROUND_DOWN)
            partial = partial or match < full
            expect(fee_note).to_have_text(f"(adds {_shown(fee, currency, every_unit=True)})")
            gift, becomes = (
                _shown(a, currency, every_unit=False) for a in (amount, amount + match)
            )
            expect(live).to_have_text(f"Your {gift} becomes {becomes} with the match.")
    if "partial" in scenario:
        assert partial, "no amount found the pools short: the scenario tests nothing partial"
        path = SCREENSHOTS / f"donate-figures-{scenario}.png"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#donate").screenshot(path=str(path))
    assert page.js_errors == []


def test_quote_json_refuses_what_the_form_refuses(
    live_server: Any, make_project: Any, new_page: Any
) -> None:
    project = make_project(cost=Money(Decimal("30000000"), "JPY"), acres=Decimal("100000"))
    page = new_page(DESKTOP)
    base = f"{live_server.url}/projects/{project.slug}/quote.json"
    answer = page.request.get(f"{base}?amount=123.45&currency=JPY")
    assert answer.status == 400
    assert answer.json() == {"error": "JPY amounts are whole numbers.", "field": "amount"}
    answer = page.request.get(f"{base}?amount=5000&currency=JPY&cover_fee=1")
    assert answer.status == 200
    assert answer.json()["fee"] == str(fee_to_cover(Money(5000, "JPY")).amount)
