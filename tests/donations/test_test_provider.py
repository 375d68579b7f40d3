"""The no-keys test checkout: the donor's whole path through the local page, the signed
webhook, the inbox, the tasks and the totals; and `load_demo --funded` on top of it."""

from __future__ import annotations

import html
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from djmoney.money import Money

from donations.models import Donation, TestProviderObject, TransitionLog, WebhookEvent
from projects.models import FundingTotals, Project
from projects.selectors import project_funding
from tests.conftest import visitor_token


@pytest.fixture
def visitor() -> Client:
    """A client that, like a browser, must send the CSRF token from the pages it was shown."""
    return Client(enforce_csrf_checks=True)


def csrf_token(body: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    assert match, "the page carries no CSRF token"
    return match.group(1)


def give(visitor: Client, project: Project, **overrides: str) -> tuple[Donation, str]:
    """Fill in the form on the project page; returns the gift and the checkout page's URL."""
    page = visitor.get(f"/projects/{project.slug}/")
    assert page.status_code == 200
    # The page is cached for every visitor, so its form carries no token: like csrf.js,
    # fetch this visitor's own.
    assert 'name="csrfmiddlewaretoken" value=""' in page.content.decode()
    data = {
        "csrfmiddlewaretoken": visitor_token(visitor),
        "preset": "50",
        "currency": "USD",
        "frequency": "one_time",
        "donor_name": "Ana Quispe",
        "donor_email": "ana@example.org",
    }
    data.update(overrides)
    response = visitor.post(f"/projects/{project.slug}/donate/", data)
    assert response.status_code == 303, response.content[:3000]
    donation = Donation.objects.get(donor_email=data["donor_email"])
    assert donation.checkout_session_id
    assert response["Location"] == f"/donations/test-checkout/{donation.checkout_session_id}/"
    return donation, response["Location"]


def press(visitor: Client, checkout_url: str, outcome: str, capture: Any) -> Any:
    """Submit the checkout page's own form with one of its buttons."""
    page = visitor.get(checkout_url)
    assert page.status_code == 200
    body = page.content.decode()
    assert '<form method="post">' in body  # posts back to the page itself
    assert f'name="outcome" value="{outcome}"' in body
    with capture(execute=True):
        response = visitor.post(
            checkout_url, {"csrfmiddlewaretoken": csrf_token(body), "outcome": outcome}
        )
    assert response.status_code == 303, response.content[:3000]
    return response


def test_checkout_page_is_clearly_a_test(visitor: Client, project: Project, no_keys: None) -> None:
    donation, url = give(visitor, project, cover_fee="on")

    page = visitor.get(url)
    body = html.unescape(page.content.decode())
    assert page.status_code == 200
    assert "<title>Test checkout, no money moves</title>" in body
    assert "<h1>Test checkout</h1>" in body
    assert "Test checkout, no money moves." in body
    assert f"Donation to {project.title} (including $1.81 to cover fees)" in body
    assert '<p class="figure" data-testid="checkout-amount">$51.81</p>' in body
    session = TestProviderObject.objects.get(object_id=donation.checkout_session_id).data
    assert session["amount_total"] == 5181
    assert session["metadata"]["donation_id"] == str(donation.pk)
    # The project page says so too.
    project_page = visitor.get(f"/projects/{project.slug}/").content.decode()
    assert "This demo uses a test checkout: no money moves." in project_page


def test_succeed_goes_through_the_signed_webhook_to_the_totals(
    visitor: Client, project: Project, no_keys: None, django_capture_on_commit_callbacks: Any
) -> None:
    donation, url = give(visitor, project)
    assert "Processing" in visitor.get(f"/donations/{donation.pk}/thanks/").content.decode()

    response = press(visitor, url, "succeed", django_capture_on_commit_callbacks)

    assert response["Location"] == f"http://testserver/donations/{donation.pk}/thanks/"
    donation.refresh_from_db()
    assert donation.status == Donation.Status.SUCCEEDED
    assert donation.charged == Money(50, "USD")
    assert donation.settled == Money(50, "USD")
    assert donation.stripe_fee == Money(Decimal("1.75"), "USD")  # 2.9% + 30 cents
    assert donation.net == Money(Decimal("48.25"), "USD")
    assert donation.payment_intent_id and donation.charge_id
    assert not donation.needs_review
    events = WebhookEvent.objects.order_by("received_at", "id")
    assert [e.type for e in events] == ["checkout.session.completed", "charge.updated"]
    assert {e.status for e in events} == {WebhookEvent.Status.PROCESSED}
    assert TransitionLog.objects.filter(donation=donation, action="succeed", applied=True).exists()
    totals = FundingTotals.objects.get(project=project)
    assert totals.raised == Money(50, "USD")
    assert totals.donor_count == 1
    thanks = visitor.get(response["Location"]).content.decode()
    assert "Confirmed" in thanks
    assert "Thank you, Ana Quispe!" in thanks
    assert [m.to for m in mail.outbox] == [["ana@example.org"]]

    # Pressing again (back button, double submit) changes nothing.
    response = press(visitor, url, "succeed", django_capture_on_commit_callbacks)
    assert WebhookEvent.objects.count() == 2
    assert FundingTotals.objects.get(project=project).raised == Money(50, "USD")
    assert len(mail.outbox) == 1


def test_a_gift_in_another_currency_settles_at_the_pretend_rate(
    visitor: Client, project: Project, no_keys: None, django_capture_on_commit_callbacks: Any
) -> None:
    """EUR 50 to a USD project: the pretend account settles in USD at 1.08, as Stripe's
    balance transaction would, and the thermometer counts the settled dollars."""
    donation, url = give(visitor, project, currency="EUR")
    press(visitor, url, "succeed", django_capture_on_commit_callbacks)
    donation.refresh_from_db()
    assert donation.status == Donation.Status.SUCCEEDED
    assert donation.charged == Money(50, "EUR")
    assert donation.settled == Money(54, "USD")
    assert donation.exchange_rate == Decimal("1.08")
    assert FundingTotals.objects.get(project=project).raised == Money(54, "USD")


def test_monthly_succeed_records_the_first_instalment(
    visitor: Client, project: Project, no_keys: None, django_capture_on_commit_callbacks: Any
) -> None:
    donation, url = give(visitor, project, frequency="monthly", preset="25")
    checkout = html.unescape(visitor.get(url).content.decode())
    assert "$25 per month" in checkout

    press(visitor, url, "succeed", django_capture_on_commit_callbacks)

    donation.refresh_from_db()
    assert donation.status == Donation.Status.SUCCEEDED
    assert donation.subscription_id.startswith("sub_test_")
    assert donation.invoice_id
    assert Donation.objects.count() == 1  # the first invoice is the plan's own gift
    assert {e.type for e in WebhookEvent.objects.all()} == {
        "checkout.session.completed",
        "invoice.paid",
    }
    assert {e.status for e in WebhookEvent.objects.all()} == {WebhookEvent.Status.PROCESSED}
    assert FundingTotals.objects.get(project=project).raised == Money(25, "USD")


def test_fail_marks_the_gift_failed(
    visitor: Client, project: Project, no_keys: None, django_capture_on_commit_callbacks: Any
) -> None:
    donation, url = give(visitor, project)

    response = press(visitor, url, "fail", django_capture_on_commit_callbacks)

    assert response["Location"] == f"http://testserver/donations/{donation.pk}/thanks/"
    donation.refresh_from_db()
    assert donation.status == Donation.Status.FAILED
    event = WebhookEvent.objects.get()
    assert (event.type, event.status) == (
        "checkout.session.async_payment_failed",
        WebhookEvent.Status.PROCESSED,
    )
    thanks = visitor.get(response["Location"]).content.decode()
    assert "Payment failed" in thanks
    assert "Try again" in thanks
    assert FundingTotals.objects.get(project=project).raised == Money(0, "USD")
    assert mail.outbox == []


def test_cancel_returns_to_the_project_and_the_gift_expires(
    visitor: Client, project: Project, no_keys: None, django_capture_on_commit_callbacks: Any
) -> None:
    donation, url = give(visitor, project)

    response = press(visitor, url, "cancel", django_capture_on_commit_callbacks)

    assert response["Location"] == (
        f"http://testserver/projects/{project.slug}/?cancelled={donation.pk}#donate"
    )
    assert visitor.get(response["Location"]).status_code == 200
    donation.refresh_from_db()
    assert donation.status == Donation.Status.EXPIRED
    event = WebhookEvent.objects.get()
    assert (event.type, event.status) == ("checkout.session.expired", WebhookEvent.Status.PROCESSED)
    assert FundingTotals.objects.get(project=project).raised == Money(0, "USD")
    # A cancelled checkout cannot be paid afterwards.
    press(visitor, url, "succeed", django_capture_on_commit_callbacks)
    donation.refresh_from_db()
    assert donation.status == Donation.Status.EXPIRED
    assert WebhookEvent.objects.count() == 1


def test_checkout_refuses_an_unknown_outcome(
    client: Client, project: Project, no_keys: None
) -> None:
    donation, url = give(client, project)

    response = client.post(url, {"outcome": "refund"})

    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0
    donation.refresh_from_db()
    assert donation.status == Donation.Status.PENDING


def test_checkout_page_does_not_exist_with_real_stripe(
    client: Client, project: Project, no_keys: None, settings: Any
) -> None:
    _donation, url = give(client, project)
    assert client.get(url).status_code == 200

    settings.PAYMENT_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_fake_key"
    assert client.get(url).status_code == 404
    assert client.post(url, {"outcome": "succeed"}).status_code == 404
    assert WebhookEvent.objects.count() == 0


def test_unknown_test_checkout_is_not_found(client: Client, db: None, no_keys: None) -> None:
    assert client.get("/donations/test-checkout/cs_test_nope/").status_code == 404


def test_test_checkout_for_an_id_that_is_not_a_session_is_not_found(
    visitor: Client, project: Project, no_keys: None, django_capture_on_commit_callbacks: Any
) -> None:
    """Charge and balance-transaction ids live in the same store as sessions: the checkout
    page answers 404 for them, on GET and POST, never a 500."""
    donation, url = give(visitor, project)
    press(visitor, url, "succeed", django_capture_on_commit_callbacks)
    donation.refresh_from_db()
    for object_id in (donation.charge_id, donation.balance_transaction_id):
        assert object_id and TestProviderObject.objects.filter(object_id=object_id).exists()
        page = f"/donations/test-checkout/{object_id}/"
        assert visitor.get(page).status_code == 404
        assert Client().post(page, {"outcome": "succeed"}).status_code == 404  # no CSRF check


# --- load_demo --funded ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_load_demo_funded_reaches_the_seed_state(
    settings: Any, no_keys: None, client: Client
) -> None:
    """README: "the seed's funded state ($303,600 of $303,600)": gifts and the 2X match
    together reach the cost exactly, through the test checkout and the signed webhook."""
    out = io.StringIO()
    call_command("load_demo", "--funded", stdout=out)

    project = Project.objects.select_related("totals").get(slug="andes-amazon-corridor")
    funding = project_funding(project)
    assert funding.cost == Money(Decimal("303600"), "USD")
    assert funding.raised == Money(Decimal("303600"), "USD")
    assert funding.donations.amount + funding.matched.amount == Decimal("303600")
    assert funding.matched == Money(Decimal("50000"), "USD")  # the demo pool's cap, spent
    assert funding.is_funded
    gifts = Donation.objects.filter(project=project)
    assert gifts.exists()
    assert {d.status for d in gifts} == {Donation.Status.SUCCEEDED}
    assert sum(d.counted for d in gifts) == funding.donations.amount
    assert not WebhookEvent.objects.exclude(status=WebhookEvent.Status.PROCESSED).exists()
    assert WebhookEvent.objects.count() == 2 * gifts.count()
    assert f"with {gifts.count()} new gift(s)" in out.getvalue()
    page = client.get(f"/projects/{project.slug}/")
    assert page.status_code == 200
    assert "$303,600" in page.content.decode()
    assert "Funded!" in page.content.decode()

    # Idempotent: a second run gives nothing more.
    out = io.StringIO()
    call_command("load_demo", "--funded", stdout=out)
    assert "with 0 new gift(s)" in out.getvalue()
    project = Project.objects.select_related("totals").get(slug="andes-amazon-corridor")
    assert project_funding(project).raised == Money(Decimal("303600"), "USD")
    assert Donation.objects.filter(project=project).count() == gifts.count()


def test_load_demo_funded_refuses_real_stripe(settings: Any, db: None) -> None:
    settings.PAYMENT_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_fake_key"
    with pytest.raises(CommandError, match="test payment provider"):
        call_command("load_demo", "--funded", stdout=io.StringIO())
    assert Donation.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_refused_test_webhook_is_queued_and_retried_not_shown_to_the_donor(
    visitor: Client, project: Project, no_keys: None, django_capture_on_commit_callbacks: Any
) -> None:
    """The audit's case: the payment succeeded, the in-process webhook post got a 503 (the
    database refused the inbox insert), and the donor saw a 500 on every retry. Now the test
    provider keeps the events and sends them again, as Stripe does."""
    import os
    import time

    import psycopg2
    from django.db import connection

    from donations import tasks

    if connection.vendor != "postgresql":
        if os.environ.get("CI"):
            pytest.fail("needs PostgreSQL (make test sets DATABASE_URL)")
        pytest.skip("needs PostgreSQL: the test holds a table lock")
    donation, url = give(visitor, project)
    s = connection.settings_dict
    holder = psycopg2.connect(
        dbname=s["NAME"], user=s["USER"], host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432
    )
    try:
        with holder.cursor() as cur:  # a transaction that keeps the inbox from taking rows
            cur.execute("LOCK TABLE donations_webhookevent IN EXCLUSIVE MODE")
        with connection.cursor() as cur:
            cur.execute("SET lock_timeout = '300ms'")
        response = press(visitor, url, "succeed", django_capture_on_commit_callbacks)
        assert response["Location"] == f"http://testserver/donations/{donation.pk}/thanks/"
        assert WebhookEvent.objects.count() == 0  # both posts were answered 503
        queued = TestProviderObject.objects.filter(data__object="event")
        assert queued.count() == 2
        assert {row.data["_delivery"]["attempts"] for row in queued} == {1}
        # The donor's thank-you page answers, and confirms the gift from the session.
        thanks = visitor.get(response["Location"])
        assert thanks.status_code == 200
        assert "Thank you, Ana Quispe!" in thanks.content.decode()
    finally:
        holder.rollback()
        holder.close()
        with connection.cursor() as cur:
            cur.execute("SET lock_timeout = 0")

    assert tasks.test_provider_redeliver() == 0  # not due yet (10 s after the refusal)
    for row in TestProviderObject.objects.filter(data__object="event"):
        row.data["_delivery"]["next_at"] = time.time() - 1
        row.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.test_provider_redeliver() == 2
    events = WebhookEvent.objects.all()
    assert {e.type for e in events} == {"checkout.session.completed", "charge.updated"}
    assert {e.status for e in events} == {WebhookEvent.Status.PROCESSED}
    donation.refresh_from_db()
    assert donation.status == Donation.Status.SUCCEEDED
    assert (
        TransitionLog.objects.filter(donation=donation, applied=True, action="succeed").count() == 1
    )
    assert FundingTotals.objects.get(project=project).raised == Money(50, "USD")
    assert tasks.test_provider_redeliver() == 0  # delivered: not sent again
