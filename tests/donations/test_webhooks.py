"""The webhook endpoint and its inbox: verification, storing once, duplicates (also
concurrent), unknown types, and Stripe being down or rate limiting while an event is
processed. Real PostgreSQL, the real stripe client against the recorded-response server."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import stripe
from django.core import mail
from django.db import connections
from django.test import Client
from django.utils import timezone

from donations import tasks
from donations.models import Donation, TransitionLog, WebhookEvent
from donations.services import events
from tests.conftest import WEBHOOK_SECRET
from tests.donations.event_helpers import (
    Webhooks,
    applied_actions,
    fresh,
    gift_start,
    post_raw,
    raised,
    requests_to,
    totals,
)
from tests.factories import WebhookEventFactory
from tests.stripe_fake import new_id, recording, signed_event

SESSIONS = "/v1/checkout/sessions"


def _paid_gift(project: Any, fake_stripe: Any) -> tuple[Donation, dict[str, Any]]:
    donation = gift_start(project, "50")
    return donation, fake_stripe.pay(donation.checkout_session_id)


# --- verification -----------------------------------------------------------------------------


def test_bad_signature_is_refused_and_nothing_stored(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    donation, session = _paid_gift(project, fake_stripe)
    body, _ = signed_event("checkout.session.completed", session, secret=WEBHOOK_SECRET)
    _, wrong_secret = signed_event("checkout.session.completed", session, secret="whsec_other")
    wrong_header = stripe.WebhookSignature.generate_signature_header(body, "whsec_other")
    good_header = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
    tampered = body.replace('"payment_status": "paid"', '"payment_status": "unpaid"')
    assert tampered != body
    before = len(fake_stripe.requests)

    for payload, header in [
        (body, wrong_header),  # signed with another endpoint's secret
        (body, wrong_secret),  # a signature for a different body
        (tampered, good_header),  # body changed after signing
        (body, None),  # no Stripe-Signature header at all
        (body, "t=123,v1=deadbeef"),  # garbage
    ]:
        response = hooks.deliver_body(payload, header)
        assert response.status_code == 400, (header, response.content)
        assert "Invalid signature" in response.json()["error"]

    assert WebhookEvent.objects.count() == 0
    assert len(fake_stripe.requests) == before  # nothing was processed either
    assert fresh(donation).status == Donation.Status.PENDING


def test_stale_timestamp_is_refused_and_nothing_stored(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    donation, session = _paid_gift(project, fake_stripe)
    body, _ = signed_event("checkout.session.completed", session, secret=WEBHOOK_SECRET)
    stale = stripe.WebhookSignature.generate_signature_header(
        body, WEBHOOK_SECRET, timestamp=int(time.time()) - 600
    )

    response = hooks.deliver_body(body, stale)

    assert response.status_code == 400
    assert "Timestamp outside the tolerance zone" in response.json()["error"]
    assert WebhookEvent.objects.count() == 0
    assert fresh(donation).status == Donation.Status.PENDING
    # The very same body signed now is accepted: it was the timestamp that was refused.
    fresh_header = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
    assert hooks.deliver_body(body, fresh_header).status_code == 200
    assert WebhookEvent.objects.count() == 1
    assert fresh(donation).status == Donation.Status.SUCCEEDED


@pytest.mark.parametrize(
    "body",
    [
        '{"id": "evt_test_cut", "type": "checkout.session.completed", "data": {',
        "not json at all",
        '["an", "array"]',
        '{"object": "event", "data": {}}',  # JSON, but no id or type
    ],
    ids=["truncated", "text", "array", "no-id"],
)
def test_correctly_signed_body_that_is_not_an_event_is_refused(
    hooks: Webhooks, fake_stripe: Any, body: str
) -> None:
    header = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)

    response = hooks.deliver_body(body, header)

    assert response.status_code == 400
    assert "Body is not" in response.json()["error"]
    assert WebhookEvent.objects.count() == 0


def test_timestamp_from_the_future_is_refused_and_nothing_stored(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    """Before: a timestamp an hour ahead was accepted (stripe-python checks only the past)."""
    donation, session = _paid_gift(project, fake_stripe)
    body, _ = signed_event("checkout.session.completed", session, secret=WEBHOOK_SECRET)
    for ahead in (3600, 301):
        future = stripe.WebhookSignature.generate_signature_header(
            body, WEBHOOK_SECRET, timestamp=int(time.time()) + ahead
        )
        response = hooks.deliver_body(body, future)
        assert response.status_code == 400, ahead
        assert "Timestamp outside the tolerance zone" in response.json()["error"]
    assert WebhookEvent.objects.count() == 0
    # A clock a little ahead (within the tolerance) is fine.
    near = stripe.WebhookSignature.generate_signature_header(
        body, WEBHOOK_SECRET, timestamp=int(time.time()) + 60
    )
    assert hooks.deliver_body(body, near).status_code == 200
    assert fresh(donation).status == Donation.Status.SUCCEEDED


def _event_body(**fields: Any) -> str:
    event = {
        "id": new_id("evt"),
        "object": "event",
        "type": "charge.updated",
        "api_version": "2026-10-28.endive",
        "data": {"object": {"id": new_id("ch"), "object": "charge"}},
    }
    event.update(fields)
    return json.dumps(event)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (_event_body(id="evt_" + "x" * 300), "Event id is longer than 255 characters"),
        (_event_body(id="evt_\u0000nul"), "control characters"),
        (_event_body(type="charge." + "x" * 120), "Event type is longer than 100"),
        (
            _event_body(data={"object": {"id": "ch_1", "description": "a\u0000b"}}),
            "Event contains a NUL character",
        ),
        (_event_body(data=None), "A charge.updated event without data.object.id"),
        (_event_body(data={"object": {"id": 42}}), "without data.object.id"),
        (_event_body(api_version={"v": 1}), "api_version is not a short string"),
    ],
    ids=[
        "long-id",
        "nul-in-id",
        "long-type",
        "nul-in-payload",
        "data-null",
        "bad-object-id",
        "api",
    ],
)
def test_signed_but_malformed_events_are_refused_with_400_and_nothing_stored(
    hooks: Webhooks, fake_stripe: Any, body: str, reason: str
) -> None:
    """Only a holder of the signing secret can send these, but they must not loop: before,
    a long id or a NUL in the payload answered 503 (Stripe retries for days), a NUL in the
    id 500, and data: null was stored and stayed "received"."""
    header = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
    response = hooks.deliver_body(body, header)
    assert response.status_code == 400, response.content
    assert response.json()["error"].startswith("Malformed event: ")
    assert reason in response.json()["error"]
    assert WebhookEvent.objects.count() == 0


def test_a_stored_event_that_cannot_be_processed_is_marked_failed_with_its_reason(
    hooks: Webhooks, fake_stripe: Any
) -> None:
    """An event stored before the endpoint refused such bodies (or by any other path)."""
    event = WebhookEventFactory.create(
        type="checkout.session.completed",
        payload={"id": "evt_x", "type": "checkout.session.completed", "data": None},
    )
    assert tasks.event_process(event.pk) == "failed"
    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.FAILED
    assert event.last_error == (
        "Unprocessable: A checkout.session.completed event without data.object.id"
    )
    assert events.inbox_sweep(older_than=timedelta(0)) == []  # never picked up again


def test_body_that_is_not_utf8_is_refused_not_a_server_error(
    hooks: Webhooks, fake_stripe: Any
) -> None:
    body = b'{"id": "evt_test_bytes", "type": "charge.updated", "x": "\xff\xfe"}'
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode("latin-1"), WEBHOOK_SECRET
    )

    for sent_header in (header, None):
        response = hooks.deliver_body(body, sent_header)
        assert response.status_code == 400
        assert response.json()["error"] == "Invalid signature: Body is not UTF-8"
    assert WebhookEvent.objects.count() == 0


# --- storing once ------------------------------------------------------------------------------


def test_same_event_delivered_twice_is_stored_processed_and_counted_once(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    donation, session = _paid_gift(project, fake_stripe)
    body, header = signed_event("checkout.session.completed", session, secret=WEBHOOK_SECRET)

    first = hooks.deliver_body(body, header)
    # Stripe re-signs a retried delivery; the event id is what identifies it.
    second = hooks.deliver_body(
        body, stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
    )

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == {"received": True, "duplicate": False}
    assert second.json() == {"received": True, "duplicate": True}
    event = WebhookEvent.objects.get()
    assert event.stripe_id == json.loads(body)["id"]
    assert (event.status, event.attempts) == (WebhookEvent.Status.PROCESSED, 1)
    assert len(requests_to(fake_stripe, f"{SESSIONS}/")) == 1  # fetched from Stripe once
    donation = fresh(donation)
    assert donation.status == Donation.Status.SUCCEEDED
    assert TransitionLog.objects.filter(donation=donation).count() == 1
    assert applied_actions(donation) == ["succeed"]
    t = totals(project)
    assert (t.raised.amount, t.gift_count, t.donor_count) == (Decimal("50.00"), 1, 1)
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_same_event_delivered_concurrently_is_stored_and_counted_once(
    project: Any, fake_stripe: Any
) -> None:
    donation, session = _paid_gift(project, fake_stripe)
    body, header = signed_event("checkout.session.completed", session, secret=WEBHOOK_SECRET)
    start = threading.Barrier(2)
    answers: list[tuple[int, dict[str, Any]]] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            own_client = Client()
            start.wait(timeout=30)
            response = post_raw(own_client, body, header)
            answers.append((response.status_code, response.json()))
        except BaseException as exc:  # noqa: BLE001 - reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert sorted(code for code, _ in answers) == [200, 200]
    assert sorted(a["duplicate"] for _, a in answers) == [False, True]
    assert WebhookEvent.objects.count() == 1
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    donation = fresh(donation)
    assert donation.status == Donation.Status.SUCCEEDED
    assert donation.counted == Decimal("50.00")
    assert applied_actions(donation) == ["succeed"]
    t = totals(project)
    assert (t.raised.amount, t.gift_count, t.donor_count) == (Decimal("50.00"), 1, 1)
    assert len(mail.outbox) == 1


def test_unknown_event_type_is_stored_and_marked_ignored(hooks: Webhooks, fake_stripe: Any) -> None:
    customer = {"id": "cus_test_unknown", "object": "customer", "email": "x@example.org"}

    response = hooks.deliver("customer.created", customer, event_id="evt_test_unknown_type")

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.stripe_id, event.type) == ("evt_test_unknown_type", "customer.created")
    assert event.status == WebhookEvent.Status.IGNORED
    assert event.attempts == 1
    assert event.processed_at is not None
    assert event.payload["data"]["object"]["id"] == "cus_test_unknown"
    assert fake_stripe.requests == []  # nothing to fetch for a type we do not handle
    # Delivered again: a duplicate, not processed again.
    again = hooks.deliver("customer.created", customer, event_id="evt_test_unknown_type")
    assert again.json()["duplicate"] is True
    assert tasks.event_process(event.pk) == "skipped"  # a redelivered task: nothing to do
    assert WebhookEvent.objects.get().attempts == 1


# --- Stripe unavailable while processing -------------------------------------------------------


def test_stripe_down_keeps_the_event_for_the_sweep(
    hooks: Webhooks, project: Any, fake_stripe: Any, settings: Any
) -> None:
    # The inbox's durability, not the client's retries (see the next tests): one request per
    # attempt. The processing task retries eagerly here (1 + max_retries attempts).
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    assert tasks.event_process.max_retries is not None
    attempts = 1 + tasks.event_process.max_retries
    donation, session = _paid_gift(project, fake_stripe)
    fake_stripe.fail_next(SESSIONS, *[500] * attempts)

    response = hooks.deliver("checkout.session.completed", session)

    assert response.status_code == 200  # Stripe is told we have it; we retry on our side
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.RETRYING
    assert event.attempts == attempts
    assert event.processed_at is None
    assert "Stripe unavailable" in event.last_error
    assert len(requests_to(fake_stripe, f"{SESSIONS}/")) == attempts
    assert fresh(donation).status == Donation.Status.PENDING
    assert raised(project) == 0
    assert mail.outbox == []

    # Stripe is back (the failures are used up). The beat sweep leaves events younger than
    # its grace period to the task queue ...
    assert tasks.inbox_sweep() == 0
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.RETRYING
    # ... and processes the ones that have waited.
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(minutes=2))
    with hooks.capture(execute=True):  # the receipt is sent after the sweep's commit
        assert tasks.inbox_sweep() == 1

    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED
    assert event.attempts == attempts + 1
    assert event.last_error == ""
    donation = fresh(donation)
    assert donation.status == Donation.Status.SUCCEEDED
    assert raised(project) == Decimal("50.00")
    assert len(mail.outbox) == 1


def test_stripe_5xx_is_retried_by_the_client_then_by_the_task(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    # Fixture: 2 network retries, so one attempt makes 3 requests; four 500s exhaust the first
    # attempt and the first request of the task's retry.
    donation, session = _paid_gift(project, fake_stripe)
    fake_stripe.fail_next(SESSIONS, 500, 500, 500, 500)

    hooks.deliver("checkout.session.completed", session)

    assert len(requests_to(fake_stripe, f"{SESSIONS}/")) == 5
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts, event.last_error) == ("processed", 2, "")
    assert fresh(donation).status == Donation.Status.SUCCEEDED
    assert raised(project) == Decimal("50.00")


def test_stripe_rate_limit_is_backed_off_and_retried(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    # The fake answers 429 with Stripe-Should-Retry: false, so stripe-python does not retry
    # it; the gateway backs off and asks again within the same attempt.
    donation, session = _paid_gift(project, fake_stripe)
    fake_stripe.fail_next(SESSIONS, 429)

    hooks.deliver("checkout.session.completed", session)

    fetches = requests_to(fake_stripe, f"{SESSIONS}/")
    assert len(fetches) == 2
    assert all(r["method"] == "GET" for r in fetches)
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == (WebhookEvent.Status.PROCESSED, 1)
    assert fresh(donation).status == Donation.Status.SUCCEEDED
    assert raised(project) == Decimal("50.00")


def test_event_for_a_gift_we_do_not_know_is_retried_then_given_up(
    hooks: Webhooks, fake_stripe: Any
) -> None:
    # A charge carrying a donation id we do not have (yet): it may still be committing, so
    # it is retried. (A charge with none of our metadata is another product's: ignored.)
    missing = "6a1f0c2e-0000-4000-8000-00000000abcd"
    charge = recording("charge")
    charge.update(
        id=new_id("ch"),
        payment_intent=new_id("pi"),
        balance_transaction=None,
        metadata={"donation_id": missing},
    )
    fake_stripe.put(charge)

    hooks.deliver("charge.succeeded", charge, event_id="evt_test_orphan")

    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.RETRYING
    assert event.last_error == f"No donation {missing}"
    assert event.attempts == 1 + (tasks.event_process.max_retries or 0)

    # The beat sweep keeps trying, once a run, up to its limit, then gives the event up.
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(minutes=2))
    runs = [tasks.inbox_sweep() for _ in range(events.MAX_SWEEP_ATTEMPTS - event.attempts + 1)]

    assert runs == [1] * (events.MAX_SWEEP_ATTEMPTS - event.attempts) + [0]
    event.refresh_from_db()
    assert (event.status, event.attempts) == (WebhookEvent.Status.FAILED, events.MAX_SWEEP_ATTEMPTS)
    assert len(requests_to(fake_stripe, "/v1/charges/")) == events.MAX_SWEEP_ATTEMPTS
    assert Donation.objects.count() == 0


def test_the_recorded_response_server_refuses_what_stripe_refuses(fake_stripe: Any) -> None:
    """So the suite cannot pass on a request real Stripe would reject: an unknown parameter,
    a path that cannot be expanded, or one too deep."""
    import requests

    charge = recording("charge")
    charge.update(id=new_id("ch"))
    fake_stripe.put(charge)
    base = f"{fake_stripe.url}/v1/charges/{charge['id']}"
    auth = {"Authorization": "Bearer sk_test_fake_key"}
    ok = requests.get(
        base, params={"expand[]": "refunds.data.balance_transaction"}, headers=auth, timeout=5
    )
    assert ok.status_code == 200 and ok.json()["refunds"]["object"] == "list"
    assert "_refunds" not in ok.text and "_seq" not in ok.text  # nothing Stripe does not send
    for params, message in [
        ({"expand[]": "payment_method_details"}, "cannot be expanded (payment_method_details)"),
        (
            {"expand[]": "balance_transaction.source.refunds.data.charge.customer"},
            "more than 4 levels",
        ),
        ({"limit": "3"}, "unknown parameter: limit"),
    ]:
        refused = requests.get(base, params=params, headers=auth, timeout=5)
        assert refused.status_code == 400, params
        assert message in refused.json()["error"]["message"]
    plain = requests.get(base, headers=auth, timeout=5).json()
    assert "refunds" not in plain  # included only when expanded
