"""Stripe's events converge whatever the order, duplicates or a worker killed mid-task: the
gift's state, Stripe's figures, the totals and the one receipt."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from donations import tasks
from donations.models import Donation, LedgerEntry, TransitionLog, WebhookEvent
from tests.donations.event_helpers import (
    Webhooks,
    charge_of,
    eur,
    event_row,
    fresh,
    gift_start,
    totals,
    usd,
)

S = Donation.Status


# --- any order converges ----------------------------------------------------------------------------

REFUND_EVENTS = ("checkout.session.completed", "charge.updated", "charge.refunded")


@pytest.mark.parametrize("order", list(itertools.permutations(REFUND_EVENTS)), ids=">".join)
def test_events_in_any_order_converge(
    hooks: Webhooks, project: Any, fake_stripe: Any, order: tuple[str, ...]
) -> None:
    # A EUR gift to a USD project, settled at 1.0832, then 20 EUR of it refunded: by the time
    # the events arrive, Stripe's objects are in their final state.
    d = gift_start(project, "50", "EUR")
    session = fake_stripe.pay(
        d.checkout_session_id,
        settled_currency="usd",
        exchange_rate=1.0832,
        settled_amount=5416,
        fee=187,
    )
    charge = fake_stripe.refund(charge_of(fake_stripe, d.checkout_session_id)["id"], 2000)
    objects = {"checkout.session.completed": session}

    for event_type in order:
        hooks.deliver(event_type, objects.get(event_type, charge))

    d = fresh(d)
    assert d.status == S.PARTIALLY_REFUNDED
    assert (d.charged, d.refunded) == (eur("50"), eur("20"))
    # Net is what was kept: 54.16 settled, less the 1.87 fee, less the refund's own balance
    # transaction (20 of 50 EUR: 21.66 USD; Stripe keeps the original fee).
    assert (d.settled, d.stripe_fee, d.net) == (usd("54.16"), usd("1.87"), usd("30.63"))
    assert d.exchange_rate == Decimal("1.0832")
    kinds = sorted(LedgerEntry.objects.filter(donation=d).values_list("kind", "project_amount"))
    assert kinds == [("fee", 0), ("gift", Decimal("54.16")), ("refund", Decimal("-21.66"))]
    assert d.charge_id == charge["id"] and d.payment_intent_id == charge["payment_intent"]
    # 54.16 USD settled, 30 of 50 EUR kept: 32.496 -> 32.50
    assert (d.counted, d.counted_provisional) == (Decimal("32.50"), False)
    t = totals(project)
    assert t.raised == usd("32.50")
    assert (t.provisional, t.gift_count, t.donor_count) == (False, 1, 1)
    left_pending = TransitionLog.objects.filter(donation=d, from_status=S.PENDING, applied=True)
    # Left pending once: straight to partially refunded when the charge came first; the
    # session's view of the charge does not list refunds (Stripe's expansion depth), so
    # after it the refund follows with the charge's own event.
    expected = S.SUCCEEDED if order[0] == "checkout.session.completed" else S.PARTIALLY_REFUNDED
    assert [row.to_status for row in left_pending] == [expected]
    assert len(mail.outbox) == 1
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}


# --- the receipt ----------------------------------------------------------------------------------


def test_one_receipt_however_often_success_is_reported(
    hooks: Webhooks, project: Any, fake_stripe: Any, settings: Any
) -> None:
    settings.ORGANISATION_NAME = "Andean Tapir Trust"
    settings.ORGANISATION_TAX_STATEMENT = "Registered charity 1187744. No goods were provided."
    d = gift_start(project, "50", email="ana@example.org")
    session = fake_stripe.pay(d.checkout_session_id)
    charge = charge_of(fake_stripe, d.checkout_session_id)

    hooks.deliver("checkout.session.completed", session, event_id="evt_test_receipt")
    hooks.deliver("checkout.session.completed", session, event_id="evt_test_receipt")
    hooks.deliver("charge.succeeded", charge)
    # The receipt task redelivered twice (acks_late): it does not send again.
    assert tasks.receipt_send(str(d.pk)) is False
    assert tasks.receipt_send(str(d.pk)) is False

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert isinstance(message, EmailMultiAlternatives)
    assert message.to == ["ana@example.org"]
    assert project.title in message.subject
    (html, mimetype), *others = message.alternatives
    assert (mimetype, others) == ("text/html", [])
    assert isinstance(html, str)
    for text in (message.body, html):
        assert "$50" in text
        assert project.title in text
        assert "Andean Tapir Trust" in text
        assert "Registered charity 1187744. No goods were provided." in text
        assert str(d.pk) in text
    assert "<table" in html and "<table" not in message.body
    assert fresh(d).receipt_sent_at is not None


# --- a worker killed mid-task -----------------------------------------------------------------------


def test_processing_again_after_a_crash_changes_nothing(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    d = gift_start(project, "50")
    session = fake_stripe.pay(d.checkout_session_id)
    hooks.deliver("checkout.session.completed", session, event_id="evt_test_crash")
    event = event_row("evt_test_crash")
    assert (event.status, event.attempts) == ("processed", 1)

    # The worker was killed after its work committed but before the broker had the ack
    # (acks_late): the broker delivers the task again, maybe twice.
    with hooks.capture(execute=True):
        again = [tasks.event_process(event.pk), tasks.event_process(event.pk)]

    assert again == ["skipped", "skipped"]
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 1)

    # Harder: the handler itself runs again over the applied gift (the inbox row reads as
    # unprocessed, as a crash between the gift's commit and the inbox's would leave it).
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=WebhookEvent.Status.RECEIVED, processed_at=None
    )
    with hooks.capture(execute=True):
        again = [tasks.event_process(event.pk), tasks.event_process(event.pk)]

    assert again == ["processed", "skipped"]
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 2)
    d = fresh(d)
    assert d.status == S.SUCCEEDED
    assert d.counted == Decimal("50.00")
    t = totals(project)
    assert (t.raised.amount, t.gift_count, t.donor_count) == (Decimal("50.00"), 1, 1)
    replays = TransitionLog.objects.filter(donation=d, event_id="evt_test_crash")
    assert [(row.action, row.applied) for row in replays] == [
        ("succeed", True),
        ("succeed", False),
    ]
    assert len(mail.outbox) == 1
