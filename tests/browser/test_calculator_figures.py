"""The acres calculator's live sentence is Python's: for gifts giving an exact whole number
of acres, a rounded ("about") figure, tenths of an acre and more than the project costs, in
the project's currency (one with cents, one without), what the page shows as the donor types
equals Project.acres_for with the wording decided in Python (acres_rounded, the whole-project
case). The script asks acres.json and computes none of it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from djmoney.money import Money
from playwright.sync_api import expect

from projects.formatting import money_format, number_format
from projects.models import Project
from tests.browser.conftest import DESKTOP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROJECTS = {
    # $303,600 / 285,288 acres: $1.06 an acre. 10.60 is exactly 10 acres, 123.45 about 116,
    # 5 about 4.7 (tenths), 400,000 more than the cost.
    "USD": ("303600", "285288", ["10.60", "123.45", "5", "400000"]),
    # ¥3,000,000 / 10,000 acres: ¥300 an acre. 3,000 is exactly 10 acres, 1,000 about 3.3,
    # 12,345 about 41, 5,000,000 more than the cost.
    "JPY": ("3000000", "10000", ["3000", "1000", "12345", "5000000"]),
}


def _python_says(project: Project, gift: Decimal) -> tuple[str, str]:
    """(kind, sentence) as Python words it, from acres_for and acres_rounded."""
    money = money_format(Money(gift, project.currency))
    if gift >= project.cost.amount:
        return (
            "whole",
            f"{money} would fund the whole project: all {number_format(project.acres)} acres",
        )
    acres = project.acres_for(gift)
    unit = "acre" if acres == 1 else "acres"
    if project.acres_rounded(gift):
        return "about", f"{money} protects about {number_format(acres)} {unit}"
    return "exact", f"{money} protects {number_format(acres)} {unit}"


@pytest.mark.parametrize("currency", PROJECTS)
def test_the_calculator_shows_the_acres_python_computes(
    currency: str, live_server: Any, make_project: Any, new_page: Any
) -> None:
    cost, acres, amounts = PROJECTS[currency]
    project = make_project(cost=Money(Decimal(cost), currency), acres=Decimal(acres))
    page = new_page(DESKTOP)
    page.goto(live_server.url + project.get_absolute_url())
    url = page.url
    calc = page.get_by_test_id("calc-output")
    gift = page.locator("#id_gift")
    kinds = set()
    for raw in amounts:
        kind, sentence = _python_says(project, Decimal(raw))
        kinds.add(kind)
        gift.fill(raw)
        expect(calc).to_have_text(sentence)  # as the donor types: no submit
        expect(page.locator("#calc-error")).to_be_hidden()
    assert page.url == url, "the figures came from the script, not a reload"
    assert kinds == {"exact", "about", "whole"}, kinds  # every wording was tried
    assert page.js_errors == []
