"""Processing Stripe's events for monthly gifts: each paid invoice recorded once, a first
payment that fails, and invoices that arrive before the checkout's completion."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings as django_settings
from django.core import mail
from django.utils import timezone

from donations import tasks
from donations.models import Donation, TransitionLog, WebhookEvent
from tests.donations.event_helpers import (
    Webhooks,
    applied_actions,
    event_row,
    fresh,
    gift_start,
    raised,
    totals,
    usd,
)

S = Donation.Status


# --- monthly gifts --------------------------------------------------------------------------------


def test_monthly_gift_records_each_paid_invoice_once(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    plan = gift_start(project, "25", frequency=Donation.Frequency.MONTHLY)
    assert fake_stripe.get(plan.checkout_session_id)["mode"] == "subscription"
    sub, first_invoice = fake_stripe.subscribe(plan.checkout_session_id)
    hooks.deliver("checkout.session.completed", fake_stripe.get(plan.checkout_session_id))
    hooks.deliver("invoice.paid", first_invoice)
    invoices = [first_invoice]
    for _ in range(2):
        invoice = fake_stripe.invoice(
            sub["id"], billing_reason="subscription_cycle", amount=2500, currency="usd"
        )
        hooks.deliver("invoice.paid", invoice)
        invoices.append(invoice)
    # The last invoice again, as another event (the first copy's id would be a duplicate).
    hooks.deliver("invoice.paid", invoices[-1])

    gifts = list(Donation.objects.filter(subscription_id=sub["id"]).order_by("created_at"))
    assert len(gifts) == 3
    assert gifts[0].pk == plan.pk and gifts[0].parent_id is None
    assert all(g.parent_id == plan.pk for g in gifts[1:])
    assert [g.invoice_id for g in gifts] == [i["id"] for i in invoices]
    assert all(g.status == S.SUCCEEDED for g in gifts)
    assert all(g.frequency == Donation.Frequency.MONTHLY for g in gifts)
    assert all(g.settled == usd("25") and g.counted == Decimal("25.00") for g in gifts)
    assert len({g.charge_id for g in gifts}) == 3
    t = totals(project)
    assert (t.raised.amount, t.gift_count, t.donor_count) == (Decimal("75.00"), 3, 1)
    assert len(mail.outbox) == 3
    assert all(g.receipt_sent_at is not None for g in gifts)
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}

    sub = fake_stripe.update(sub["id"], status="canceled")
    hooks.deliver("customer.subscription.deleted", sub, event_id="evt_test_sub_deleted")

    plan = fresh(plan)
    assert plan.subscription_status == "canceled"
    assert plan.status == S.SUCCEEDED  # past gifts stand
    assert event_row("evt_test_sub_deleted").status == WebhookEvent.Status.PROCESSED
    assert TransitionLog.objects.filter(
        donation=plan, action="subscription canceled", event_id="evt_test_sub_deleted"
    ).exists()
    assert raised(project) == Decimal("75.00")


def _monthly_checkout_unpaid(fake_stripe: Any, session_id: str | None) -> dict[str, Any]:
    """A subscription checkout paid by a delayed method (a bank debit): the session
    completes unpaid, the subscription is incomplete and its first invoice open."""
    assert session_id
    sub, invoice = fake_stripe.subscribe(session_id)
    fake_stripe.update(sub["id"], status="incomplete")
    fake_stripe.update(invoice["id"], status="open", amount_paid=0)
    # The fake keeps an invoice's payments as Stripe sends them: only when expanded.
    pi_id = fake_stripe.get(invoice["_payments"][0])["payment"]["payment_intent"]
    # As Stripe: the attempt is "open" (not "paid") until the debit clears.
    fake_stripe.update(invoice["_payments"][0], status="open", amount_paid=None)
    fake_stripe.update(pi_id, status="processing", latest_charge=None)
    fake_stripe.update(session_id, payment_status="unpaid")
    return {"sub": sub, "invoice": invoice, "pi": pi_id}


def test_monthly_checkout_whose_first_payment_fails_ends_failed(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    """Before: the subscription branch saved and returned, so the gift stayed pending for
    ever (the recheck calls the same code)."""
    plan = gift_start(project, "25", frequency=Donation.Frequency.MONTHLY)
    objs = _monthly_checkout_unpaid(fake_stripe, plan.checkout_session_id)
    hooks.deliver("checkout.session.completed", fake_stripe.get(plan.checkout_session_id))
    plan = fresh(plan)
    assert plan.status == S.PENDING  # the debit is still processing
    assert TransitionLog.objects.filter(
        donation=plan, action="session sync", note="awaiting the first monthly payment"
    ).exists()

    fake_stripe.update(objs["pi"], status="requires_payment_method")
    hooks.deliver(
        "checkout.session.async_payment_failed", fake_stripe.get(plan.checkout_session_id)
    )
    plan = fresh(plan)
    assert plan.status == S.FAILED
    assert plan.failed_at is not None
    assert applied_actions(plan) == ["fail"]
    assert raised(project) == Decimal("0")
    assert mail.outbox == []


def test_pending_recheck_resolves_a_monthly_checkout_stripe_gave_up(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    """Lost webhooks: Stripe expired the incomplete subscription; the recheck ends the gift."""
    plan = gift_start(project, "25", frequency=Donation.Frequency.MONTHLY)
    objs = _monthly_checkout_unpaid(fake_stripe, plan.checkout_session_id)
    fake_stripe.update(objs["sub"]["id"], status="incomplete_expired")
    old = timezone.now() - django_settings.DONATION_PENDING_RECHECK_AFTER - timedelta(minutes=1)
    Donation.objects.filter(pk=plan.pk).update(created_at=old)
    with hooks.capture(execute=True):
        assert tasks.pending_recheck() == {"checked": 1, "changed": 1}
    assert fresh(plan).status == S.FAILED


def test_monthly_invoices_paid_before_the_checkout_completion_are_linked_all_the_same(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    # Stripe does not order events: invoice.paid commonly arrives before the session's
    # completion, and the completion may come late (or, after failed deliveries, never).
    plan = gift_start(project, "25", frequency=Donation.Frequency.MONTHLY)
    sub, first_invoice = fake_stripe.subscribe(plan.checkout_session_id)
    second_invoice = fake_stripe.invoice(
        sub["id"], billing_reason="subscription_cycle", amount=2500, currency="usd"
    )

    hooks.deliver("invoice.paid", first_invoice)
    hooks.deliver("invoice.paid", second_invoice)

    plan = fresh(plan)
    (child,) = plan.instalments.all()
    for gift in (plan, child):
        assert gift.status == S.SUCCEEDED
        assert gift.subscription_id == sub["id"]
    assert Donation.objects.filter(subscription_id=sub["id"]).count() == 2
    assert raised(project) == Decimal("50.00")

    hooks.deliver("checkout.session.completed", fake_stripe.get(plan.checkout_session_id))

    assert Donation.objects.filter(subscription_id=sub["id"], status=S.SUCCEEDED).count() == 2
    assert raised(project) == Decimal("50.00")
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}
