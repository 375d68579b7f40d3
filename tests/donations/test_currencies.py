"""Which currencies a donor may give in, and the presets, fees and match text the donate form
shows for each: only currencies a gift can be counted in (lifecycle.contribution counts a
gift charged in the project's currency or settled in it) are offered."""

from __future__ import annotations

import html
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from djmoney.money import Money

from donations.models import Donation
from projects.models import Project
from tests.donations.giving_helpers import (
    assert_refused,
    donate_url,
    gift_data,
    page_text,
    session_requests,
)
from tests.donations.matching_helpers import pool_open

TEMPLATE = re.compile(r'<template class="preset-set" data-currency="(\w+)">(.*?)</template>', re.S)


def donate_form_html(response: Any) -> str:
    content = response.content.decode()
    start = content.index('<form method="post" action="/projects/')
    return content[start : content.index("</form>", start)]


def live_part(form: str) -> str:
    """What the donor sees without JavaScript: the form without its <template>s."""
    return TEMPLATE.sub("", form)


def templates(form: str) -> dict[str, str]:
    return dict(TEMPLATE.findall(form))


def preset_values(fragment: str) -> list[str]:
    return re.findall(r'<input type="radio" name="preset" value="([^"]+)"', fragment)


def checked_preset(fragment: str) -> list[str]:
    return re.findall(r'<input type="radio" name="preset" value="([^"]+)" checked>', fragment)


def currency_options(form: str) -> list[str]:
    select = re.search(r'<select name="currency"[^>]*>(.*?)</select>', form, re.S)
    return re.findall(r'<option value="(\w+)"', select.group(1)) if select else []


def js_currencies(form: str) -> dict[str, Any]:
    match = re.search(r'data-currencies="([^"]*)"', form)
    assert match, form[:500]
    data: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return data


@pytest.fixture
def eur_project(make_project: Any) -> Project:
    project: Project = make_project(cost=Money(Decimal("280000"), "EUR"))
    return project


@pytest.fixture
def jpy_project(make_project: Any) -> Project:
    # 30,000,000 yen for 100,000 acres: 5,000 yen protects 17 acres (16.67 rounded).
    project: Project = make_project(cost=Money(Decimal("30000000"), "JPY"), acres=Decimal("100000"))
    return project


# --- which currencies are offered -----------------------------------------------------------


def test_a_project_in_the_settlement_currency_offers_every_allowed_currency(
    client: Client, project: Project
) -> None:
    form = donate_form_html(client.get(project.get_absolute_url()))

    assert currency_options(form) == ["USD", "EUR", "GBP", "JPY"]
    assert '<option value="USD" selected>' in form
    assert sorted(templates(form)) == ["EUR", "GBP", "JPY"]


def test_a_project_in_another_currency_offers_only_its_own_and_hides_the_select(
    client: Client, eur_project: Project
) -> None:
    form = donate_form_html(client.get(eur_project.get_absolute_url()))

    assert currency_options(form) == []
    assert '<select name="currency"' not in form
    assert '<input type="hidden" name="currency" id="id_currency" value="EUR">' in form
    assert templates(form) == {}
    assert sorted(js_currencies(form)) == ["EUR"]


def test_the_settlement_currency_is_a_setting(
    client: Client, project: Project, eur_project: Project, settings: Any
) -> None:
    settings.DONATION_SETTLEMENT_CURRENCY = "EUR"

    eur_form = donate_form_html(client.get(eur_project.get_absolute_url()))
    usd_form = donate_form_html(client.get(project.get_absolute_url()))

    assert currency_options(eur_form) == ["EUR", "USD", "GBP", "JPY"]  # its own first
    assert currency_options(usd_form) == []
    assert '<input type="hidden" name="currency" id="id_currency" value="USD">' in usd_form


@pytest.mark.parametrize("currency", ["USD", "GBP", "JPY"])
def test_a_currency_the_project_cannot_count_is_refused_before_anything_starts(
    client: Client, eur_project: Project, fake_stripe: Any, currency: str
) -> None:
    response = client.post(
        donate_url(eur_project),
        gift_data(preset="other", custom_amount="5000", currency=currency),
    )

    assert_refused(
        response,
        fake_stripe,
        status=400,
        message=(
            f"Gifts to this project can only be made in EUR: a gift in {currency} "
            "could not be counted towards its goal."
        ),
    )
    # The re-shown form still offers only EUR, with the donor's entry kept.
    form = donate_form_html(response)
    assert '<input type="hidden" name="currency" id="id_currency" value="EUR">' in form
    assert 'value="Ana Quispe"' in form


def test_a_currency_the_platform_does_not_take_keeps_the_usual_message(
    client: Client, eur_project: Project, fake_stripe: Any
) -> None:
    response = client.post(donate_url(eur_project), gift_data(currency="CAD"))

    assert_refused(
        response,
        fake_stripe,
        status=400,
        message="Select a valid choice. CAD is not one of the available choices.",
    )


def test_a_project_takes_a_gift_in_its_own_currency_when_it_is_not_the_settlement_one(
    client: Client, eur_project: Project, fake_stripe: Any
) -> None:
    response = client.post(donate_url(eur_project), gift_data(preset="50", currency="EUR"))

    assert response.status_code == 303, response.content[:3000]
    assert Donation.objects.get().amount == Money(50, "EUR")
    price = session_requests(fake_stripe)[0]["params"]["line_items"][0]["price_data"]
    assert (price["currency"], price["unit_amount"]) == ("eur", "5000")


# --- presets per currency -------------------------------------------------------------------


def test_a_jpy_projects_form_shows_yen_presets_and_its_default_preset_is_a_valid_gift(
    client: Client, jpy_project: Project, fake_stripe: Any
) -> None:
    page = client.get(jpy_project.get_absolute_url())
    form = donate_form_html(page)
    shown = live_part(form)

    assert preset_values(shown) == ["3000", "5000", "10000", "30000", "other"]
    assert checked_preset(shown) == ["5000"]
    text = html.unescape(shown)
    assert "¥5,000</strong><small>protects about 17 acres</small>" in text
    assert "¥30,000</strong><small>protects 100 acres</small>" in text
    assert "¥50<" not in text

    # The form as the donor's browser sends it, untouched: the default preset.
    response = client.post(donate_url(jpy_project), gift_data(preset="5000", currency="JPY"))

    assert response.status_code == 303, response.content[:3000]
    assert Donation.objects.get().amount == Money(5000, "JPY")
    price = session_requests(fake_stripe)[0]["params"]["line_items"][0]["price_data"]
    assert (price["currency"], price["unit_amount"]) == ("jpy", "5000")


def test_other_currencies_presets_wait_in_templates_without_acres(
    client: Client, project: Project
) -> None:
    form = donate_form_html(client.get(project.get_absolute_url()))
    shown = live_part(form)
    sets = templates(form)

    assert preset_values(shown) == ["25", "50", "100", "250", "other"]
    assert checked_preset(shown) == ["50"]
    assert "$50</strong><small>protects about 47 acres</small>" in shown
    assert preset_values(sets["JPY"]) == ["3000", "5000", "10000", "30000"]
    assert preset_values(sets["EUR"]) == ["25", "50", "100", "250"]
    for currency, fragment in sets.items():
        assert checked_preset(fragment) == []
        assert "protects" not in fragment
        assert fragment.count("acres depend on Stripe's exchange rate") == len(
            preset_values(fragment)
        ), currency
    assert "¥3,000</strong>" in sets["JPY"]


def test_a_preset_shown_for_another_currency_is_refused_and_the_form_shows_the_chosen_ones(
    client: Client, project: Project, fake_stripe: Any
) -> None:
    """Without JavaScript a donor can change the currency after picking a preset labelled
    in the project's: 50 means USD 50, never 50 yen (below the minimum) or 50 of anything."""
    response = client.post(donate_url(project), gift_data(preset="50", currency="JPY"))

    assert_refused(
        response,
        fake_stripe,
        status=400,
        message="Choose one of the suggested JPY amounts or enter your own.",
    )
    form = donate_form_html(response)
    assert '<option value="JPY" selected>' in form
    assert preset_values(live_part(form)) == ["3000", "5000", "10000", "30000", "other"]
    assert checked_preset(live_part(form)) == []
    assert sorted(templates(form)) == ["EUR", "GBP", "USD"]
    assert "protects about 47 acres" in templates(form)["USD"]  # acres in the project's currency
    assert "(adds 2.9% + 0 JPY)" in page_text(response)


def test_a_typed_amount_still_wins_over_a_preset_of_another_currency(
    client: Client, project: Project, fake_stripe: Any
) -> None:
    response = client.post(
        donate_url(project), gift_data(preset="50", custom_amount="5000", currency="JPY")
    )

    assert response.status_code == 303, response.content[:3000]
    assert Donation.objects.get().amount == Money(5000, "JPY")


def test_presets_come_from_the_setting_and_leave_out_amounts_outside_the_limits(
    client: Client, project: Project, settings: Any
) -> None:
    settings.DONATION_PRESETS = {
        **settings.DONATION_PRESETS,
        "USD": [Decimal("10"), Decimal("20"), Decimal("0.50"), Decimal("200000")],
        "JPY": [Decimal("500"), Decimal("99.5")],
    }
    form = donate_form_html(client.get(project.get_absolute_url()))

    assert preset_values(live_part(form)) == ["10", "20", "other"]
    assert preset_values(templates(form)["JPY"]) == ["500"]
    assert js_currencies(form)["USD"]["presets"] == ["10", "20"]


# --- what project.js is given ---------------------------------------------------------------


def test_the_form_gives_the_fee_of_every_offered_currency_to_the_page(
    client: Client, project: Project, settings: Any
) -> None:
    settings.DONATION_FEE_PERCENT = Decimal("3.4")
    settings.DONATION_FEE_FIXED = {**settings.DONATION_FEE_FIXED, "GBP": Decimal("0.21")}

    form = donate_form_html(client.get(project.get_absolute_url()))

    assert 'data-fee-percent="3.4"' in form
    assert 'data-project-currency="USD"' in form
    assert js_currencies(form) == {
        "USD": {
            "fee_fixed": "0.30",
            "digits": 2,
            "presets": ["25", "50", "100", "250"],
            "min": "1",
            "max": "100000",
        },
        "EUR": {
            "fee_fixed": "0.25",
            "digits": 2,
            "presets": ["25", "50", "100", "250"],
            "min": "1",
            "max": "100000",
        },
        "GBP": {
            "fee_fixed": "0.21",
            "digits": 2,
            "presets": ["25", "50", "100", "250"],
            "min": "1",
            "max": "100000",
        },
        "JPY": {
            "fee_fixed": "0",
            "digits": 0,
            "presets": ["3000", "5000", "10000", "30000"],
            "min": "100",
            "max": "15000000",
        },
    }
    assert "(adds 3.4% + 0.30 USD)" in html.unescape(form)


def test_a_project_in_another_currency_gives_its_own_fee(
    client: Client, eur_project: Project
) -> None:
    page = client.get(eur_project.get_absolute_url())
    form = donate_form_html(page)

    assert js_currencies(form) == {
        "EUR": {
            "fee_fixed": "0.25",
            "digits": 2,
            "presets": ["25", "50", "100", "250"],
            "min": "1",
            "max": "100000",
        }
    }
    assert 'data-fee-fixed="0.25"' in form
    assert "(adds 2.9% + 0.25 EUR)" in page_text(page)


def test_an_open_match_gives_the_page_its_label_and_what_is_left_in_the_project_currency(
    client: Client, project: Project
) -> None:
    pool_open(project, cap="75")

    form = donate_form_html(client.get(project.get_absolute_url()))

    assert 'data-match-label="2X"' in form
    assert 'data-match-left="$75"' in form
    assert re.search(r'data-match-pools="1(\.0+)?:75(\.0+)?"', form), form[:600]
    # "Becomes" only on the project currency's presets: another currency's match depends on
    # the rate Stripe settles the gift at.
    assert "becomes $50" in live_part(form)
    assert all("becomes" not in fragment for fragment in templates(form).values())
