"""A monthly gift whose first payment fails ends failed, from Stripe's own shapes: the
session of a subscription checkout has no payment intent, the first payment is on the
invoice (left ``open`` with an ``open`` attempt) and the subscription stays ``incomplete``
until Stripe expires it. Through webhooks, through the pending re-check, and through the
test provider's checkout page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings as django_settings
from django.core import mail
from django.test import Client
from django.utils import timezone
from djmoney.money import Money

from donations import tasks
from donations.models import Donation, TransitionLog, WebhookEvent
from projects.models import FundingTotals, Project
from tests.donations.event_helpers import Webhooks, applied_actions, fresh, gift_start, raised
from tests.donations.test_test_provider import give, press

S = Donation.Status


def test_a_declined_first_monthly_payment_fails_the_gift_on_the_checkout_completion(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    """Before: only a paid invoice payment was read, so the open attempt of the failed first
    payment went unseen and the gift stayed pending for good."""
    plan = gift_start(project, "25", frequency=Donation.Frequency.MONTHLY)
    objs = fake_stripe.subscribe_fails(plan.checkout_session_id)
    session = fake_stripe.get(plan.checkout_session_id)
    assert session["payment_intent"] is None  # as Stripe: the payment is on the invoice

    hooks.deliver("checkout.session.completed", session)
    hooks.deliver("checkout.session.async_payment_failed", session)

    plan = fresh(plan)
    assert plan.status == S.FAILED
    assert plan.failed_at is not None
    assert plan.subscription_id == objs["sub"]["id"]
    assert applied_actions(plan) == ["fail"]
    assert raised(project) == Decimal("0")
    assert mail.outbox == []


def test_invoice_payment_failed_alone_fails_the_first_monthly_gift(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    """The session's events were lost: the failed first invoice is enough. Before: the
    plan's first invoice failing left the plan pending ("its checkout decides")."""
    plan = gift_start(project, "25", frequency=Donation.Frequency.MONTHLY)
    objs = fake_stripe.subscribe_fails(plan.checkout_session_id)

    hooks.deliver("invoice.payment_failed", objs["invoice"])

    plan = fresh(plan)
    assert plan.status == S.FAILED
    assert plan.invoice_id == objs["invoice"]["id"]
    assert applied_actions(plan) == ["fail"]
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}
    # No "update your card" email for a gift that never started.
    assert mail.outbox == []

    # Paid after all (the invoice's hosted page, within Stripe's 23 hours): the plan
    # succeeds, unflagged, so failing it early loses nothing.
    invoice = objs["invoice"]
    ch_id = fake_stripe.settle(objs["pi"], amount=2500, currency="usd", fee=103, metadata={})
    fake_stripe.update(objs["pi"], status="succeeded", latest_charge=ch_id, amount_received=2500)
    fake_stripe.update(invoice["_payments"][0], status="paid", amount_paid=2500)
    paid = fake_stripe.update(invoice["id"], status="paid", amount_paid=2500, amount_remaining=0)
    hooks.deliver("invoice.paid", paid)
    plan = fresh(plan)
    assert plan.status == S.SUCCEEDED
    assert not plan.needs_review
    assert raised(project) == Decimal("25.00")


def test_subscription_incomplete_expired_fails_a_pending_plan(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    plan = gift_start(project, "25", frequency=Donation.Frequency.MONTHLY)
    objs = fake_stripe.subscribe_fails(plan.checkout_session_id)
    sub = fake_stripe.update(objs["sub"]["id"], status="incomplete_expired")

    hooks.deliver("customer.subscription.updated", sub)

    plan = fresh(plan)
    assert (plan.status, plan.subscription_status) == (S.FAILED, "incomplete_expired")
    assert TransitionLog.objects.filter(
        donation=plan, action="fail", applied=True, note="subscription incomplete_expired"
    ).exists()


def test_pending_recheck_fails_a_declined_monthly_checkout_whose_webhooks_were_lost(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    plan = gift_start(project, "25", frequency=Donation.Frequency.MONTHLY)
    fake_stripe.subscribe_fails(plan.checkout_session_id)
    old = timezone.now() - django_settings.DONATION_PENDING_RECHECK_AFTER - timedelta(minutes=1)
    Donation.objects.filter(pk=plan.pk).update(created_at=old)

    with hooks.capture(execute=True):
        assert tasks.pending_recheck() == {"checked": 1, "changed": 1}

    assert fresh(plan).status == S.FAILED
    assert not Donation.objects.filter(status=S.PENDING).exists()


def test_test_checkout_monthly_fail_is_shaped_as_stripe_and_ends_failed(
    project: Project, no_keys: None, django_capture_on_commit_callbacks: Any
) -> None:
    """The donor presses "fail" on the test checkout of a monthly gift. Before: the test
    provider emitted a payment-mode session (its own payment intent), unlike Stripe's."""
    visitor = Client(enforce_csrf_checks=True)
    donation, url = give(visitor, project, frequency="monthly", preset="25")

    response = press(visitor, url, "fail", django_capture_on_commit_callbacks)

    assert response["Location"] == f"http://testserver/donations/{donation.pk}/thanks/"
    donation.refresh_from_db()
    assert donation.status == Donation.Status.FAILED
    assert donation.subscription_id.startswith("sub_test_")
    assert not donation.payment_intent_id  # the session never had one
    events = WebhookEvent.objects.order_by("received_at", "id")
    assert [e.type for e in events] == [
        "checkout.session.completed",
        "invoice.payment_failed",
        "checkout.session.async_payment_failed",
    ]
    assert {e.status for e in events} == {WebhookEvent.Status.PROCESSED}
    session = events[0].payload["data"]["object"]
    assert (session["mode"], session["payment_intent"]) == ("subscription", None)
    assert not Donation.objects.filter(status=Donation.Status.PENDING).exists()
    assert "Payment failed" in visitor.get(response["Location"]).content.decode()
    assert FundingTotals.objects.get(project=project).raised == Money(0, "USD")
    assert mail.outbox == []
