"""Property: whatever is posted to the donate form, a refused gift leaves nothing behind
(no row, no Checkout Session) and an accepted one makes exactly one of each, for an amount
the rules allow."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from donations.models import Donation, TransitionLog
from donations.money import currency_exponent, to_minor
from projects.models import Project

SESSIONS = "/v1/checkout/sessions"

nasty = st.text(max_size=40)
amounts = st.one_of(
    st.sampled_from(
        [
            "50",
            "1",
            "0",
            "0.99",
            "10.5",
            "10.123",
            "10.1200",
            "1,000",
            "1,000.50",
            "1,00",
            "100000",
            "100000.01",
            "15000000",
            "99",
            "1e3",
            "-5",
            "NaN",
            "Infinity",
            " 25 ",
            "٥٠",  # noqa: RUF001 - Arabic-Indic digits, on purpose
            "",
        ]
    ),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-10, max_value=10**12).map(str),
    st.floats().map(str),
    nasty,
)
currencies = st.one_of(st.sampled_from(["USD", "EUR", "GBP", "JPY", "usd", "CAD", ""]), nasty)
frequencies = st.one_of(st.sampled_from(["one_time", "monthly", "yearly", ""]), nasty)
presets = st.one_of(st.sampled_from(["25", "50", "100", "250", "other", "", "49"]), nasty)
names = st.one_of(st.sampled_from(["Ana", "  ", "x" * 121]), st.text(max_size=130))
emails = st.one_of(
    st.sampled_from(["ana@example.org", "ANA@Example.ORG", "not-an-email", "a" * 250 + "@x.org"]),
    st.emails(),
    nasty,
)
flags = st.one_of(st.sampled_from(["on", "", "false", "0", "1"]), nasty)
tribute_types = st.one_of(st.sampled_from(["", "honour", "memory", "bogus"]), nasty)
short_texts = st.one_of(st.just(""), st.text(max_size=300))

FIELDS: dict[str, Any] = {
    "preset": presets,
    "custom_amount": amounts,
    "currency": currencies,
    "frequency": frequencies,
    "donor_name": names,
    "donor_email": emails,
    "anonymous": flags,
    "hide_amount": flags,
    "cover_fee": flags,
    "tribute_type": tribute_types,
    "tribute_name": short_texts,
    "tribute_notify_email": st.one_of(st.just(""), emails),
    "message": short_texts,
    "website": st.one_of(st.just(""), st.just(""), nasty),
}

# Values a donor's browser would send.
VALID: dict[str, Any] = {
    "preset": st.sampled_from(["25", "50", "100", "250", "other"]),
    "custom_amount": st.one_of(
        st.just(""),
        st.decimals(min_value=1, max_value=100000, places=2).map(str),
        st.integers(min_value=1, max_value=15_000_000).map(str),
    ),
    "currency": st.sampled_from(["USD", "EUR", "GBP", "JPY"]),
    "frequency": st.sampled_from(["one_time", "monthly"]),
    "donor_name": st.sampled_from(["Ana", "María Quispe", "O'Brien & <Co>"]),
    "donor_email": st.one_of(st.sampled_from(["ana@example.org", "Ana@Example.ORG"]), st.emails()),
    "anonymous": st.sampled_from(["on", ""]),
    "hide_amount": st.sampled_from(["on", ""]),
    "cover_fee": st.sampled_from(["on", ""]),
    "tribute_type": st.sampled_from(["", "honour", "memory"]),
    "tribute_name": st.sampled_from(["", "Gran"]),
    "tribute_notify_email": st.sampled_from(["", "family@example.org"]),
    "message": st.text(max_size=280),
    "website": st.just(""),
}


@st.composite
def near_valid(draw: st.DrawFn) -> dict[str, str]:
    """A plausible post with up to four fields replaced by anything or left out."""
    data = {key: draw(strategy) for key, strategy in VALID.items()}
    for key in draw(st.sets(st.sampled_from(sorted(FIELDS)), max_size=4)):
        value = draw(st.one_of(st.none(), FIELDS[key]))
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return data


# Mostly near-valid posts (so that many are accepted), and some where every field is
# present with any value or missing altogether.
posts = st.one_of(near_valid(), near_valid(), st.fixed_dictionaries({}, optional=FIELDS))


def _allowed(amount: Decimal, currency: str) -> bool:
    low, high = django_settings.DONATION_LIMITS[currency]
    quantum = Decimal(1).scaleb(-currency_exponent(currency))
    return low <= amount <= high and amount == amount.quantize(quantum)


@pytest.fixture
def fuzz_env(settings: Any, fake_stripe: Any) -> Any:
    settings.DONATION_RATE_LIMIT_PER_IP = "1000000/h"
    settings.DONATION_RATE_LIMIT_PER_EMAIL = "1000000/h"
    return fake_stripe


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=posts)
def test_refused_posts_leave_nothing_and_accepted_ones_make_one_gift(
    client: Client, project: Project, fuzz_env: Any, data: dict[str, str]
) -> None:
    fake_stripe = fuzz_env
    TransitionLog.objects.all().delete()
    Donation.objects.all().delete()
    fake_stripe.reset()
    cache.clear()

    response = client.post(f"/projects/{project.slug}/donate/", data)

    sessions = [r for r in fake_stripe.requests if r["method"] == "POST" and r["path"] == SESSIONS]
    event(f"status {response.status_code}")
    if response.status_code != 303:
        assert response.status_code == 400, (response.status_code, data)
        assert Donation.objects.count() == 0, data
        assert sessions == [], data
        return

    donation = Donation.objects.get()
    assert len(sessions) == 1, data
    assert donation.status == Donation.Status.PENDING
    assert (
        response["Location"] == f"https://checkout.stripe.com/c/pay/{donation.checkout_session_id}"
    )
    currency = str(donation.amount.currency)
    assert currency in django_settings.DONATION_CURRENCIES
    assert currency == data["currency"]
    assert _allowed(Decimal(donation.amount.amount), currency), (donation.amount, data)
    assert donation.frequency in {"one_time", "monthly"}
    assert donation.frequency == data["frequency"]
    assert donation.donor_name and donation.donor_name == donation.donor_name.strip()
    assert donation.donor_email == donation.donor_email.lower()
    assert not data.get("website", "").strip()
    assert donation.fee_covered.amount >= 0
    assert (donation.fee_covered.amount > 0) == donation.cover_fee
    params = sessions[0]["params"]
    price = params["line_items"][0]["price_data"]
    assert price["currency"] == currency.lower()
    assert int(price["unit_amount"]) == to_minor(donation.total_charge)
    assert params["metadata"]["donation_id"] == str(donation.pk)
    assert params["customer_email"] == donation.donor_email
    assert params["mode"] == ("subscription" if donation.frequency == "monthly" else "payment")
