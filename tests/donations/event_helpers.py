"""Driving gifts through Stripe's webhooks for the webhook and event tests: real gifts started
through the giving service (a Checkout Session at the fake Stripe), signed events posted to
the endpoint, and Stripe-side builders the fake does not have (delayed payment methods)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core import mail
from django.test import Client
from djmoney.money import Money

from donations.models import Donation, TransitionLog, WebhookEvent
from donations.services.giving import GiftRequest, donation_start
from projects.models import FundingTotals, Project
from tests.conftest import WEBHOOK_SECRET
from tests.stripe_fake import FakeStripe, new_id, recording, signed_event

if TYPE_CHECKING:  # the test client's response type exists only in django-stubs
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

WEBHOOK_URL = "/stripe/webhook/"


def gift_start(
    project: Project,
    amount: str = "50",
    currency: str | None = None,
    *,
    frequency: str = Donation.Frequency.ONE_TIME,
    email: str | None = None,
    name: str | None = None,
    cover_fee: bool = False,
) -> Donation:
    """A pending gift with its Checkout Session created at the fake Stripe."""
    n = Donation.objects.count() + 1
    donation, _url = donation_start(
        gift=GiftRequest(
            project=project,
            amount=Money(Decimal(amount), currency or project.currency),
            frequency=frequency,
            donor_name=name or f"Donor {n}",
            donor_email=email or f"donor{n}@example.org",
            cover_fee=cover_fee,
        ),
        base_url="http://testserver",
    )
    return donation


def post_event(
    client: Client,
    event_type: str,
    obj: dict[str, Any],
    *,
    event_id: str | None = None,
    timestamp: int | None = None,
) -> Response:
    body, header = signed_event(
        event_type, obj, secret=WEBHOOK_SECRET, event_id=event_id, timestamp=timestamp
    )
    return post_raw(client, body, header)


def post_raw(client: Client, body: str | bytes, header: str | None) -> Response:
    headers = {"stripe-signature": header} if header is not None else {}
    response: Response = client.post(
        WEBHOOK_URL, body, content_type="application/json", headers=headers
    )
    return response


class Webhooks:
    """Posts signed events and runs what the endpoint schedules after commit (the
    processing task, eager in tests, then the receipt task)."""

    def __init__(self, client: Client, capture: Callable[..., AbstractContextManager[Any]]) -> None:
        self.client = client
        self.capture = capture

    def deliver(
        self, event_type: str, obj: dict[str, Any], *, event_id: str | None = None
    ) -> Response:
        with self.capture(execute=True):
            response = post_event(self.client, event_type, obj, event_id=event_id)
        assert response.status_code == 200, response.content
        return response

    def deliver_body(self, body: str | bytes, header: str | None) -> Response:
        with self.capture(execute=True):
            return post_raw(self.client, body, header)


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def totals(project: Project) -> FundingTotals:
    return FundingTotals.objects.get(project=project)


def raised(project: Project) -> Decimal:
    return Decimal(totals(project).raised.amount)


def fresh(donation: Donation) -> Donation:
    donation.refresh_from_db()
    return donation


def applied_actions(donation: Donation) -> list[str]:
    return list(
        TransitionLog.objects.filter(donation=donation, applied=True).values_list(
            "action", flat=True
        )
    )


def receipts_to(email: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if email in m.to]


def event_row(stripe_id: str) -> WebhookEvent:
    return WebhookEvent.objects.get(stripe_id=stripe_id)


# --- Stripe-side scenarios the fake's builders do not cover ----------------------------------


def pay_delayed(fake: FakeStripe, session_id: str | None) -> dict[str, Any]:
    """The donor chose a delayed payment method (SEPA Debit): the session completes unpaid
    and its payment intent is processing, with no charge yet."""
    assert session_id is not None
    session = fake.get(session_id)
    pi = recording("payment_intent")
    pi.update(
        id=new_id("pi"),
        amount=session["amount_total"],
        amount_received=0,
        currency=session["currency"],
        latest_charge=None,
        status="processing",
        metadata=session["metadata"],
        payment_method_types=["sepa_debit"],
    )
    fake.put(pi)
    return fake.update(
        session_id, status="complete", payment_status="unpaid", payment_intent=pi["id"]
    )


def delayed_payment_fails(fake: FakeStripe, session_id: str | None) -> dict[str, Any]:
    assert session_id is not None
    session = fake.get(session_id)
    fake.update(
        session["payment_intent"],
        status="requires_payment_method",
        last_payment_error={"code": "insufficient_funds", "type": "card_error"},
    )
    return fake.get(session_id)


def delayed_payment_succeeds(fake: FakeStripe, session_id: str | None) -> dict[str, Any]:
    """The debit cleared: the same payment intent now has a charge and balance transaction."""
    assert session_id is not None
    session = fake.get(session_id)
    pi_id, amount, currency = (
        session["payment_intent"],
        session["amount_total"],
        session["currency"],
    )
    fee = round(amount * 0.008)
    ch_id = fake.settle(
        pi_id, amount=amount, currency=currency, fee=fee, metadata=session["metadata"]
    )
    fake.update(pi_id, status="succeeded", amount_received=amount, latest_charge=ch_id)
    return fake.update(session_id, payment_status="paid")


def charge_of(fake: FakeStripe, session_id: str | None) -> dict[str, Any]:
    assert session_id is not None
    session = fake.get(session_id)
    pi = fake.get(session["payment_intent"])
    return fake.get(pi["latest_charge"])


def requests_to(fake: FakeStripe, path_prefix: str) -> list[dict[str, Any]]:
    with fake.lock:
        return [r for r in fake.requests if r["path"].startswith(path_prefix)]
