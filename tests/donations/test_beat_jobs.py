"""The periodic jobs that catch what the webhooks missed: the pending-gift recheck and the
report of events Stripe could not deliver."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings as django_settings
from django.core import mail
from django.utils import timezone

from donations import tasks
from donations.models import Donation, TransitionLog, WebhookEvent
from donations.services import catchup
from tests.donations.event_helpers import (
    Webhooks,
    applied_actions,
    event_row,
    fresh,
    gift_start,
    raised,
    requests_to,
    usd,
)

S = Donation.Status


# --- beat jobs ------------------------------------------------------------------------------------


def test_pending_recheck_expires_or_confirms_stale_gifts_from_their_session(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    abandoned = gift_start(project, "10")
    paid = gift_start(project, "50")
    still_open = gift_start(project, "20")
    recent = gift_start(project, "30")
    fake_stripe.update(abandoned.checkout_session_id, status="expired")
    fake_stripe.pay(paid.checkout_session_id)
    fake_stripe.pay(recent.checkout_session_id)  # paid, but its webhook may still come
    old = timezone.now() - django_settings.DONATION_PENDING_RECHECK_AFTER - timedelta(minutes=1)
    Donation.objects.filter(pk__in=[abandoned.pk, paid.pk, still_open.pk]).update(created_at=old)

    with hooks.capture(execute=True):
        result = tasks.pending_recheck()

    assert result == {"checked": 3, "changed": 2}
    assert fresh(abandoned).status == S.EXPIRED
    assert fresh(still_open).status == S.PENDING
    assert fresh(recent).status == S.PENDING  # younger than the recheck delay: left alone
    paid = fresh(paid)
    assert paid.status == S.SUCCEEDED
    assert paid.settled == usd("50")
    assert raised(project) == Decimal("50.00")
    assert applied_actions(paid) == ["succeed"]
    assert TransitionLog.objects.get(donation=abandoned, applied=True).event_id == "recheck"
    assert [m.to for m in mail.outbox] == [[paid.donor_email]]
    fetched = {r["path"].rsplit("/", 1)[1] for r in requests_to(fake_stripe, "/v1/checkout/")}
    assert recent.checkout_session_id not in fetched


def test_pending_recheck_takes_the_oldest_first_and_fails_gifts_without_a_session(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    """A backlog of newer open sessions cannot hide an old one; a gift whose start was
    interrupted before Stripe made a session can never be paid and is closed."""
    oldest = gift_start(project, "10")
    newer = [gift_start(project, "20") for _ in range(3)]
    orphan = Donation.objects.create(
        project=project, amount=usd("15"), donor_name="Cut Off", donor_email="cut@example.org"
    )
    fake_stripe.update(oldest.checkout_session_id, status="expired")
    now = timezone.now() - django_settings.DONATION_PENDING_RECHECK_AFTER
    for age, d in enumerate([orphan, oldest, *newer]):
        Donation.objects.filter(pk=d.pk).update(created_at=now - timedelta(hours=10 - age))

    with hooks.capture(execute=True):
        first = catchup.pending_recheck(limit=2)

    assert first == {"checked": 2, "changed": 2}
    assert fresh(orphan).status == S.FAILED
    assert fresh(oldest).status == S.EXPIRED
    assert {fresh(d).status for d in newer} == {S.PENDING}
    assert TransitionLog.objects.get(donation=orphan, applied=True).event_id == "recheck"


def test_pending_recheck_goes_on_past_a_gift_it_cannot_process(
    hooks: Webhooks, project: Any, fake_stripe: Any, caplog: Any
) -> None:
    """One item's failure is logged and the rest are re-checked (before, the job raised at
    the first and every gift behind it stayed pending, run after run)."""
    broken = gift_start(project, "10")
    abandoned = gift_start(project, "20")
    # A session the code cannot read (an unknown currency): fails however often it is tried.
    fake_stripe.update(broken.checkout_session_id, status="complete", currency="???")
    fake_stripe.update(abandoned.checkout_session_id, status="expired")
    old = timezone.now() - django_settings.DONATION_PENDING_RECHECK_AFTER
    for age, d in enumerate([broken, abandoned]):
        Donation.objects.filter(pk=d.pk).update(created_at=old - timedelta(hours=2 - age))

    with hooks.capture(execute=True):
        result = tasks.pending_recheck()

    assert result == {"checked": 2, "changed": 1}
    assert fresh(abandoned).status == S.EXPIRED
    assert fresh(broken).status == S.PENDING
    assert f"Recheck of pending gift {broken.pk} failed; going on with the rest" in caplog.text


def test_failed_events_report_lists_events_stripe_could_not_deliver(
    hooks: Webhooks, fake_stripe: Any, caplog: Any
) -> None:
    # One event we did receive (later), one we never saw.
    hooks.deliver("customer.created", {"id": "cus_test_1"}, event_id="evt_test_arrived")
    # One we stored but cannot process: Stripe says the session does not exist (non-retryable).
    gone = {"id": "cs_test_gone", "object": "checkout.session"}
    hooks.deliver("checkout.session.completed", gone, event_id="evt_test_gone")
    failed = event_row("evt_test_gone")
    assert failed.status == WebhookEvent.Status.FAILED
    assert "Stripe refused the request" in failed.last_error
    fake_stripe.failed_events.extend(
        [
            {"id": "evt_test_arrived", "object": "event", "type": "customer.created"},
            {"id": "evt_test_lost", "object": "event", "type": "charge.refunded"},
        ]
    )

    with caplog.at_level(logging.ERROR, logger="donations.services.catchup"):
        missing = tasks.failed_events_report()

    assert missing == ["evt_test_lost"]
    (listing,) = requests_to(fake_stripe, "/v1/events")
    assert listing["params"]["delivery_success"] == "false"
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Stripe could not deliver event evt_test_lost (charge.refunded)" in errors
    assert "1 stored webhook events failed processing" in errors
    assert not any("evt_test_arrived" in e for e in errors)


def test_failed_events_report_reads_every_page(hooks: Webhooks, fake_stripe: Any) -> None:
    """Stripe lists undeliverable events 100 at a time: one on the third page is reported
    too (the report used to read only the first page)."""
    fake_stripe.failed_events.extend(
        {"id": f"evt_test_page_{n:03}", "object": "event", "type": "charge.refunded"}
        for n in range(230)
    )
    for n in range(229):  # all but the last arrived after all
        hooks.deliver("customer.created", {"id": f"cus_{n}"}, event_id=f"evt_test_page_{n:03}")

    missing = tasks.failed_events_report()

    assert missing == ["evt_test_page_229"]
    pages = requests_to(fake_stripe, "/v1/events")
    assert [p["params"].get("starting_after") for p in pages] == [
        None,
        "evt_test_page_099",
        "evt_test_page_199",
    ]
