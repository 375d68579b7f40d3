"""The finance desk in a real browser, as a finance officer uses it: a paying-in batch is
closed by clicking its button (a form nested in the admin's change form would never
submit), and the donations list and batch page fit a 1280 px screen."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone
from djmoney.money import Money
from playwright.sync_api import expect

from finance.models import OfflineBatch
from finance.services import offline_gifts
from tests.browser.conftest import DESKTOP
from tests.factories import DonationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-finance-pass-7719"


@pytest.fixture
def fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _sign_in(page: Any, live_server: Any) -> User:
    officer = User.objects.create_user("fiona", password=PASSWORD, is_staff=True)
    officer.groups.add(Group.objects.get(name="Finance"))
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("fiona")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    return officer


def test_finance_closes_a_batch_by_clicking_its_button(
    live_server: Any, demo: Any, new_page: Any, shot: Any, fast_hashing: None
) -> None:
    page = new_page(DESKTOP)
    officer = _sign_in(page, live_server)
    batch = OfflineBatch.objects.create(
        name="Paying-in slip 42",
        expected_count=2,
        expected_total=Money(Decimal(300), demo.currency),
        created_by=officer,
    )
    for amount, reference in (("100", "CHQ 1"), ("200", "CHQ 2")):
        offline_gifts.offline_gift_record(
            gift=offline_gifts.OfflineGiftInput(
                project=demo,
                amount=Decimal(amount),
                currency=demo.currency,
                donor_name="Carmen Flores",
                donor_email="",
                method="cheque",
                reference=reference,
                received_on=timezone.localdate(),
                note="",
                batch_id=batch.pk,
            ),
            actor=officer,
        )
    page.goto(f"{live_server.url}/admin/donations/offlinebatch/{batch.pk}/change/")
    # Finance sees the batch's gifts (the inline is not a superuser's alone).
    expect(page.locator("#gifts-group")).to_contain_text("CHQ 2")
    shot(page, "finance-batch")
    page.get_by_role("button", name="Close the batch").click()
    expect(page.locator(".messagelist")).to_contain_text("Batch Paying-in slip 42 closed")
    batch.refresh_from_db()
    assert batch.closed_at is not None
    expect(page.get_by_role("button", name="Close the batch")).to_have_count(0)
    assert page.js_errors == []


def test_the_donations_list_fits_1280_pixels(
    live_server: Any, demo: Any, new_page: Any, shot: Any, fast_hashing: None
) -> None:
    for n in range(5):
        DonationFactory.create(
            project=demo,
            succeeded=True,
            donor_name=f"María Fernanda Quispe Huamán {n}",
            donor_email=f"maria.fernanda.{n}@example.org",
            amount=Money(Decimal("1250.00"), demo.currency),
            settled=Money(Decimal("1250.00"), "USD"),
            stripe_fee=Money(Decimal("36.55"), "USD"),
            frequency="monthly",
        )
    page = new_page(DESKTOP)
    _sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/donations/donation/")
    expect(page.locator("#result_list")).to_be_visible()
    shot(page, "finance-donations-list")
    # The admin scrolls the results table inside its own box (.results), not the page.
    overflow = page.evaluate(
        """() => [document.documentElement, document.querySelector('#changelist .results')]
                 .map(e => e.scrollWidth - e.clientWidth)"""
    )
    assert overflow == [0, 0], f"the page and the list scroll sideways by {overflow} px"
    amount = page.locator("#result_list td.field-amount_money").first
    expect(amount).to_have_text("1,250.00 USD")
    assert amount.evaluate("e => getComputedStyle(e).textAlign") == "right"
    assert page.js_errors == []
