"""Starting a gift: the donate form, its validation, rate limits and the Checkout Session
request that the real stripe-python client sends to the recorded-response server."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from djmoney.money import Money

from donations.models import Donation
from donations.providers import stripe as stripe_adapter
from projects.models import Project
from tests.donations.giving_helpers import (
    assert_refused,
    donate_url,
    gift_data,
    page_text,
    session_requests,
)

# --- the Checkout Session -------------------------------------------------------------------


def test_one_time_gift_creates_one_pending_donation_and_its_checkout_session(
    client: Client, project: Project, fake_stripe: Any
) -> None:
    response = client.post(donate_url(project), gift_data())

    assert response.status_code == 303, response.content[:3000]
    donation = Donation.objects.get()
    assert donation.status == Donation.Status.PENDING
    assert donation.amount == Money(50, "USD")
    assert donation.fee_covered == Money(0, "USD")
    assert donation.frequency == Donation.Frequency.ONE_TIME
    assert donation.donor_name == "Ana Quispe"
    assert donation.checkout_session_id
    assert (
        response["Location"] == f"https://checkout.stripe.com/c/pay/{donation.checkout_session_id}"
    )

    [request] = session_requests(fake_stripe)
    params = request["params"]
    assert params["mode"] == "payment"
    assert params["submit_type"] == "donate"
    [line] = params["line_items"]
    assert line["quantity"] == "1"
    price = line["price_data"]
    assert price["unit_amount"] == "5000"  # minor units
    assert price["currency"] == "usd"
    assert "recurring" not in price
    assert project.title in price["product_data"]["name"]
    assert params["metadata"] == {"donation_id": str(donation.pk), "project": project.slug}
    assert params["payment_intent_data"]["metadata"]["donation_id"] == str(donation.pk)
    assert params["client_reference_id"] == str(donation.pk)
    assert params["customer_email"] == "ana@example.org"
    assert params["success_url"] == f"http://testserver/donations/{donation.pk}/thanks/"
    assert params["cancel_url"] == (
        f"http://testserver/projects/{project.slug}/?cancelled={donation.pk}#donate"
    )
    assert request["idempotency_key"] == str(donation.pk)
    assert request["stripe_version"] == stripe_adapter.API_VERSION
    assert request["authorization"] == "Bearer sk_test_fake_key"


def test_monthly_gift_is_a_subscription_with_a_recurring_price(
    client: Client, project: Project, fake_stripe: Any
) -> None:
    response = client.post(
        donate_url(project), gift_data(preset="other", custom_amount="20", frequency="monthly")
    )

    assert response.status_code == 303, response.content[:3000]
    donation = Donation.objects.get()
    assert donation.frequency == Donation.Frequency.MONTHLY
    [request] = session_requests(fake_stripe)
    params = request["params"]
    assert params["mode"] == "subscription"
    assert "submit_type" not in params  # Stripe refuses submit_type for subscriptions
    price = params["line_items"][0]["price_data"]
    assert price["recurring"] == {"interval": "month"}
    assert price["unit_amount"] == "2000"
    assert params["subscription_data"]["metadata"]["donation_id"] == str(donation.pk)
    assert request["idempotency_key"] == str(donation.pk)


def test_custom_amount_wins_over_a_preset_and_accepts_thousands_separators(
    client: Client, project: Project, fake_stripe: Any
) -> None:
    response = client.post(donate_url(project), gift_data(preset="50", custom_amount="1,250.50"))

    assert response.status_code == 303, response.content[:3000]
    assert Donation.objects.get().amount == Money(Decimal("1250.50"), "USD")
    assert (
        session_requests(fake_stripe)[0]["params"]["line_items"][0]["price_data"]["unit_amount"]
        == "125050"
    )


def test_donor_email_is_stored_and_sent_in_lower_case(
    client: Client, project: Project, fake_stripe: Any
) -> None:
    response = client.post(donate_url(project), gift_data(donor_email=" Ana.Quispe@Example.ORG "))

    assert response.status_code == 303, response.content[:3000]
    assert Donation.objects.get().donor_email == "ana.quispe@example.org"
    assert session_requests(fake_stripe)[0]["params"]["customer_email"] == (
        "ana.quispe@example.org"
    )


# --- covering the fee -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("percent", "fixed", "fee", "unit_amount"),
    [
        # (50 + 0.30) / (1 - 0.029) = 51.8022...: the fee is rounded up to the cent.
        ("2.9", "0.30", "1.81", "5181"),
        # (50 + 1) / (1 - 0.05) = 53.6842...
        ("5", "1.00", "3.69", "5369"),
    ],
)
def test_covering_the_fee_charges_the_gift_plus_the_fee_from_settings(
    client: Client,
    project: Project,
    fake_stripe: Any,
    settings: Any,
    percent: str,
    fixed: str,
    fee: str,
    unit_amount: str,
) -> None:
    settings.DONATION_FEE_PERCENT = Decimal(percent)
    settings.DONATION_FEE_FIXED = {**settings.DONATION_FEE_FIXED, "USD": Decimal(fixed)}

    page = client.get(f"/projects/{project.slug}/")
    assert page.status_code == 200
    assert f"(adds {percent}% + {fixed} USD)" in page_text(page)
    assert f'data-fee-percent="{percent}"' in page.content.decode()
    assert f'data-fee-fixed="{fixed}"' in page.content.decode()

    response = client.post(donate_url(project), gift_data(cover_fee="on"))

    assert response.status_code == 303, response.content[:3000]
    donation = Donation.objects.get()
    assert donation.cover_fee is True
    assert donation.amount == Money(50, "USD")
    assert donation.fee_covered == Money(Decimal(fee), "USD")
    assert donation.total_charge == Money(Decimal(50) + Decimal(fee), "USD")
    price = session_requests(fake_stripe)[0]["params"]["line_items"][0]["price_data"]
    assert price["unit_amount"] == unit_amount


def test_without_cover_fee_nothing_is_added(
    client: Client, project: Project, fake_stripe: Any
) -> None:
    response = client.post(donate_url(project), gift_data(cover_fee=""))

    assert response.status_code == 303
    assert Donation.objects.get().fee_covered == Money(0, "USD")
    price = session_requests(fake_stripe)[0]["params"]["line_items"][0]["price_data"]
    assert price["unit_amount"] == "5000"


# --- currencies and amounts -----------------------------------------------------------------


def test_zero_decimal_currency_is_sent_in_whole_units(
    client: Client, project: Project, fake_stripe: Any
) -> None:
    response = client.post(
        donate_url(project), gift_data(preset="other", custom_amount="1000", currency="JPY")
    )

    assert response.status_code == 303, response.content[:3000]
    donation = Donation.objects.get()
    assert donation.amount == Money(1000, "JPY")
    price = session_requests(fake_stripe)[0]["params"]["line_items"][0]["price_data"]
    assert price["currency"] == "jpy"
    assert price["unit_amount"] == "1000"  # not 100000


def test_zero_decimal_fee_cover_is_rounded_up_to_a_whole_yen(
    client: Client, project: Project, fake_stripe: Any, settings: Any
) -> None:
    settings.DONATION_FEE_PERCENT = Decimal("2.9")
    settings.DONATION_FEE_FIXED = {**settings.DONATION_FEE_FIXED, "JPY": Decimal(0)}
    response = client.post(
        donate_url(project),
        gift_data(preset="other", custom_amount="1000", currency="JPY", cover_fee="on"),
    )

    assert response.status_code == 303, response.content[:3000]
    # 1000 / 0.971 = 1029.86...: 30 yen, never a fraction of a yen.
    assert Donation.objects.get().fee_covered == Money(30, "JPY")
    price = session_requests(fake_stripe)[0]["params"]["line_items"][0]["price_data"]
    assert price["unit_amount"] == "1030"


@pytest.mark.parametrize(
    ("currency", "amount", "message"),
    [
        ("JPY", "10.5", "JPY amounts are whole numbers."),
        ("JPY", "1000.5", "JPY amounts are whole numbers."),
        ("USD", "10.123", "USD amounts have at most 2 decimal places."),
        ("EUR", "25.001", "EUR amounts have at most 2 decimal places."),
        ("USD", "0.99", "The smallest gift is 1 USD."),
        ("USD", "0", "The smallest gift is 1 USD."),
        ("JPY", "99", "The smallest gift is 100 JPY."),
        ("USD", "100000.01", "Online gifts are limited to 100,000 USD"),
        ("GBP", "100001", "Online gifts are limited to 100,000 GBP"),
        ("JPY", "15000001", "Online gifts are limited to 15,000,000 JPY"),
        ("USD", "fifty", "Enter the amount as a number, e.g. 50 or 25.50."),
        ("USD", "1e3", "Enter the amount as a number, e.g. 50 or 25.50."),
        ("USD", "-5", "Enter the amount as a number, e.g. 50 or 25.50."),
        ("USD", "$50", "Enter the amount as a number, e.g. 50 or 25.50."),
        ("USD", "50.", "Enter the amount as a number, e.g. 50 or 25.50."),
        ("USD", "NaN", "Enter the amount as a number, e.g. 50 or 25.50."),
        ("USD", "", "Choose an amount or enter your own."),
        ("CAD", "50", "Select a valid choice. CAD is not one of the available choices."),
        ("usd", "50", "Select a valid choice. usd is not one of the available choices."),
        ("", "50", "This field is required."),
    ],
)
def test_invalid_amounts_and_currencies_are_refused_before_anything_starts(
    client: Client, project: Project, fake_stripe: Any, currency: str, amount: str, message: str
) -> None:
    response = client.post(
        donate_url(project), gift_data(preset="other", custom_amount=amount, currency=currency)
    )

    assert_refused(response, fake_stripe, status=400, message=message)
    # The donor's entry is kept so they can correct it.
    assert 'value="Ana Quispe"' in response.content.decode()


def test_limits_are_inclusive(client: Client, project: Project, fake_stripe: Any) -> None:
    for currency, amount in [("USD", "1"), ("USD", "100000"), ("JPY", "100"), ("JPY", "15000000")]:
        response = client.post(
            donate_url(project),
            gift_data(
                preset="other",
                custom_amount=amount,
                currency=currency,
                donor_email=f"{currency}{amount}@example.org",
            ),
        )
        assert response.status_code == 303, (currency, amount, response.content[:3000])
    assert Donation.objects.count() == 4
    assert len(session_requests(fake_stripe)) == 4


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"donor_name": "   "}, "This field is required."),
        ({"donor_email": "not-an-email"}, "Enter a valid email address."),
        ({"donor_email": ""}, "This field is required."),
        # Longer than the database column (254): refused by the form, not a server error.
        (
            {"donor_email": "a" * 250 + "@example.org"},
            "Ensure this value has at most 254 characters",
        ),
        (
            {"tribute_type": "memory", "tribute_name": "  "},
            "Whom is this gift in honour or memory of?",
        ),
        (
            {"tribute_type": "honour", "tribute_name": "Gran", "tribute_notify_email": "nope"},
            "Enter a valid email address.",
        ),
        ({"message": "x" * 281}, "Ensure this value has at most 280 characters (it has 281)."),
        # A name goes into email headers: one line only (a line break made Django refuse
        # the tribute notice's header, and the catch-up job raised on every run).
        ({"donor_name": "Ana\nQuispe"}, "A name must be on one line, without line breaks"),
        ({"donor_name": "Ana\r\nBcc: x@example.org"}, "A name must be on one line"),
        (
            {"tribute_type": "memory", "tribute_name": "Gran\nma"},
            "A name must be on one line, without line breaks or tabs.",
        ),
        ({"tribute_type": "memory", "tribute_name": "Gran\u2028ma"}, "A name must be on one line"),
    ],
)
def test_invalid_donor_details_are_refused_with_a_visible_error(
    client: Client, project: Project, fake_stripe: Any, overrides: dict[str, str], message: str
) -> None:
    response = client.post(donate_url(project), gift_data(**overrides))

    assert_refused(response, fake_stripe, status=400, message=message)


def test_a_full_length_message_typed_with_line_breaks_is_accepted(
    client: Client, project: Project, fake_stripe: Any
) -> None:
    """A browser's maxlength=280 counts a line break as one character but submits it as
    CRLF: the server must not refuse what the browser let the donor type."""
    typed = "\n".join(["x" * 55] * 5)  # 279 characters with 4 line breaks
    assert len(typed) <= 280
    response = client.post(donate_url(project), gift_data(message=typed.replace("\n", "\r\n")))

    assert response.status_code == 303, response.content[:3000]
    assert Donation.objects.get().message == typed


def test_honeypot_filled_starts_nothing(client: Client, project: Project, fake_stripe: Any) -> None:
    response = client.post(donate_url(project), gift_data(website="http://spam.example"))

    assert_refused(
        response,
        fake_stripe,
        status=400,
        message="This form could not be submitted. Please try again.",
    )


def test_get_on_the_donate_url_goes_to_the_form(client: Client, project: Project) -> None:
    response = client.get(donate_url(project))

    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.slug}/#donate"
    assert Donation.objects.count() == 0
