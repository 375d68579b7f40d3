"""Processing Stripe's events: the gift's state, Stripe's figures and the project's totals
converge whatever the order, duplicates or delays; the beat jobs; the receipt."""

from __future__ import annotations

import itertools
import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.utils import timezone
from djmoney.money import Money

from donations import tasks
from donations.models import Donation, LedgerEntry, TransitionLog, WebhookEvent
from donations.providers import stripe_payloads
from donations.services import catchup, lifecycle, receipts
from tests.conftest import admin_login
from tests.donations.event_helpers import (
    Webhooks,
    applied_actions,
    charge_of,
    delayed_payment_fails,
    delayed_payment_succeeds,
    event_row,
    fresh,
    gift_start,
    pay_delayed,
    raised,
    receipts_to,
    requests_to,
    totals,
)

S = Donation.Status


def _usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def _eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


# --- refunds ------------------------------------------------------------------------------------


def test_full_refund_seen_before_the_checkout_completes_converges_to_refunded(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    d = gift_start(project, "50")
    session = fake_stripe.pay(d.checkout_session_id)
    charge = fake_stripe.refund(charge_of(fake_stripe, d.checkout_session_id)["id"], 5000)

    hooks.deliver("charge.refunded", charge)

    d = fresh(d)
    assert d.status == S.REFUNDED
    assert (d.charged, d.refunded) == (_usd("50"), _usd("50"))
    assert d.charge_id == charge["id"]
    assert d.refunded_at is not None
    assert raised(project) == 0

    hooks.deliver("checkout.session.completed", session)

    d = fresh(d)
    assert d.status == S.REFUNDED  # the late completion does not resurrect the gift
    assert d.refunded == _usd("50")
    assert d.counted == 0
    t = totals(project)
    assert (t.raised.amount, t.gift_count, t.donor_count) == (0, 0, 0)
    assert mail.outbox == []  # no receipt for a gift that was refunded in full
    # Converged, not contradicted: one transition out of pending, nothing for finance to review.
    assert applied_actions(d) == ["succeed (from charge)"]
    assert (d.needs_review, d.review_reason) == (False, "")
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}


def test_partial_refund_seen_before_the_checkout_completes_counts_net_of_refund(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    d = gift_start(project, "50")
    session = fake_stripe.pay(d.checkout_session_id)
    charge = fake_stripe.refund(charge_of(fake_stripe, d.checkout_session_id)["id"], 2000)

    hooks.deliver("charge.refunded", charge)
    hooks.deliver("checkout.session.completed", session)

    d = fresh(d)
    assert d.status == S.PARTIALLY_REFUNDED
    assert (d.charged, d.refunded) == (_usd("50"), _usd("20"))
    assert d.settled == _usd("50")
    assert d.counted == Decimal("30.00")
    t = totals(project)
    assert (t.raised.amount, t.gift_count, t.donor_count) == (Decimal("30.00"), 1, 1)
    assert len(mail.outbox) == 1  # money was kept: the donor gets a receipt

    # A stale copy of the charge (read before the refund) never shrinks what was refunded.
    stale = fake_stripe.update(charge["id"], amount_refunded=0, refunded=False)
    hooks.deliver("charge.updated", stale)
    d = fresh(d)
    assert (d.status, d.refunded, d.counted) == (S.PARTIALLY_REFUNDED, _usd("20"), Decimal("30"))
    assert raised(project) == Decimal("30.00")


# --- settlement in the project's currency -----------------------------------------------------


def test_foreign_currency_gift_is_provisional_until_the_balance_transaction_settles_it(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    assert project.currency == "USD"
    d = gift_start(project, "50", "EUR")
    session = fake_stripe.pay(
        d.checkout_session_id,
        settled_currency="usd",
        exchange_rate=1.0832,
        settled_amount=5416,
        fee=187,
    )
    charge = charge_of(fake_stripe, d.checkout_session_id)
    txn_id = charge["balance_transaction"]
    # Stripe has not created the balance transaction yet when the session completes.
    fake_stripe.update(charge["id"], balance_transaction=None)

    hooks.deliver("checkout.session.completed", session)

    d = fresh(d)
    assert d.status == S.SUCCEEDED
    assert d.charged == _eur("50")
    assert (d.settled, d.stripe_fee, d.net, d.exchange_rate) == (None, None, None, None)
    assert (d.counted, d.counted_provisional) == (0, True)
    t = totals(project)
    assert (t.raised.amount, t.provisional, t.gift_count) == (0, True, 0)

    charge = fake_stripe.update(charge["id"], balance_transaction=txn_id)
    hooks.deliver("charge.updated", charge)

    d = fresh(d)
    assert d.status == S.SUCCEEDED
    assert d.balance_transaction_id == txn_id
    assert d.settled == _usd("54.16")
    assert d.stripe_fee == _usd("1.87")
    assert d.net == _usd("52.29")
    assert d.exchange_rate == Decimal("1.0832")
    assert (d.counted, d.counted_provisional) == (Decimal("54.16"), False)
    t = totals(project)
    assert t.raised == _usd("54.16")
    assert (t.provisional, t.gift_count, t.donor_count) == (False, 1, 1)
    assert not d.needs_review
    assert len(mail.outbox) == 1


# --- disputes -----------------------------------------------------------------------------------


def _succeeded_gift(hooks: Webhooks, project: Any, fake_stripe: Any) -> tuple[Donation, str]:
    d = gift_start(project, "50")
    session = fake_stripe.pay(d.checkout_session_id)
    hooks.deliver("checkout.session.completed", session)
    assert fresh(d).status == S.SUCCEEDED
    assert raised(project) == Decimal("50.00")
    return d, charge_of(fake_stripe, d.checkout_session_id)["id"]


def test_dispute_opened_then_won_restores_the_gift(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    d, charge_id = _succeeded_gift(hooks, project, fake_stripe)
    dispute = fake_stripe.dispute(charge_id, "needs_response")

    hooks.deliver("charge.dispute.created", dispute)

    d = fresh(d)
    assert (d.status, d.dispute_id, d.dispute_status) == (
        S.DISPUTED,
        dispute["id"],
        "needs_response",
    )
    assert d.disputed_at is not None
    t = totals(project)
    assert (t.raised.amount, t.gift_count) == (0, 0)  # withdrawn while the dispute is open

    dispute = fake_stripe.update(dispute["id"], status="won")
    hooks.deliver("charge.dispute.closed", dispute)

    d = fresh(d)
    assert (d.status, d.dispute_status) == (S.SUCCEEDED, "won")
    assert d.dispute_closed_at is not None
    assert d.counted == Decimal("50.00")
    t = totals(project)
    assert (t.raised.amount, t.gift_count, t.donor_count) == (Decimal("50.00"), 1, 1)
    assert [
        (row.from_status, row.to_status)
        for row in TransitionLog.objects.filter(donation=d, action__startswith="dispute")
    ] == [(S.SUCCEEDED, S.DISPUTED), (S.DISPUTED, S.SUCCEEDED)]


def test_an_older_view_of_a_closed_dispute_applied_late_changes_nothing(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    """Two workers: one fetched the dispute while it was open and is slow to apply it; the
    other applies the close first. Stripe never reopens a closed dispute, so the late,
    older view is a recorded no-op and the gift stays counted."""
    d, charge_id = _succeeded_gift(hooks, project, fake_stripe)
    opened = fake_stripe.dispute(charge_id, "needs_response")
    won = fake_stripe.update(opened["id"], status="won")
    hooks.deliver("charge.dispute.closed", won)
    older_view = stripe_payloads.dispute_fact(opened, fake_stripe.get(charge_id))
    lifecycle.donation_dispute_sync(donation_id=d.pk, dispute=older_view, event_id="evt_slow")

    d = fresh(d)
    assert (d.status, d.dispute_status) == (S.SUCCEEDED, "won")
    assert totals(project).raised.amount == Decimal("50.00")
    late = TransitionLog.objects.get(donation=d, event_id="evt_slow")
    assert not late.applied and "already closed" in late.note


def test_dispute_opened_then_lost_takes_the_gift_out_of_the_totals(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    d, charge_id = _succeeded_gift(hooks, project, fake_stripe)
    dispute = fake_stripe.dispute(charge_id, "needs_response")
    hooks.deliver("charge.dispute.created", dispute)
    assert fresh(d).status == S.DISPUTED

    dispute = fake_stripe.update(dispute["id"], status="lost")
    hooks.deliver("charge.dispute.closed", dispute)
    # A late, stale copy of the creation changes nothing: the dispute is re-fetched.
    hooks.deliver("charge.dispute.created", dispute)

    d = fresh(d)
    # The code's rule for a lost dispute: the money went back, so the gift reads as refunded.
    assert (d.status, d.dispute_status) == (S.REFUNDED, "lost")
    assert d.dispute_closed_at is not None
    assert d.counted == 0
    t = totals(project)
    assert (t.raised.amount, t.gift_count, t.donor_count) == (0, 0, 0)


# --- the Checkout Session's own outcomes ---------------------------------------------------------


def test_expired_checkout_session_expires_the_gift(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    d = gift_start(project, "50")
    session = fake_stripe.update(d.checkout_session_id, status="expired")

    hooks.deliver("checkout.session.expired", session)

    d = fresh(d)
    assert d.status == S.EXPIRED
    assert d.expired_at is not None
    assert applied_actions(d) == ["expire"]
    assert raised(project) == 0
    assert mail.outbox == []


def _delayed_payment_pending(hooks: Webhooks, project: Any, fake_stripe: Any) -> Donation:
    d = gift_start(project, "50")
    session = pay_delayed(fake_stripe, d.checkout_session_id)
    assert (session["status"], session["payment_status"]) == ("complete", "unpaid")

    hooks.deliver("checkout.session.completed", session)

    d = fresh(d)
    assert d.status == S.PENDING
    assert d.payment_intent_id == session["payment_intent"]
    assert applied_actions(d) == []
    assert raised(project) == 0
    assert mail.outbox == []
    return d


def test_delayed_payment_that_fails_fails_the_gift(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    d = _delayed_payment_pending(hooks, project, fake_stripe)
    session = delayed_payment_fails(fake_stripe, d.checkout_session_id)

    hooks.deliver("checkout.session.async_payment_failed", session)

    d = fresh(d)
    assert d.status == S.FAILED
    assert d.failed_at is not None
    assert applied_actions(d) == ["fail"]
    assert raised(project) == 0
    assert mail.outbox == []


def test_delayed_payment_that_succeeds_succeeds_the_gift(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    d = _delayed_payment_pending(hooks, project, fake_stripe)
    session = delayed_payment_succeeds(fake_stripe, d.checkout_session_id)

    hooks.deliver("checkout.session.async_payment_succeeded", session)

    d = fresh(d)
    assert d.status == S.SUCCEEDED
    assert d.payment_intent_id == session["payment_intent"]
    assert d.charge_id == charge_of(fake_stripe, d.checkout_session_id)["id"]
    assert (d.charged, d.settled, d.stripe_fee) == (_usd("50"), _usd("50"), _usd("0.40"))
    assert raised(project) == Decimal("50.00")
    assert applied_actions(d) == ["succeed"]
    assert len(receipts_to(d.donor_email)) == 1


# --- Stripe charged something else ---------------------------------------------------------------


def test_amount_mismatch_is_flagged_for_finance_and_counts_what_stripe_charged(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    odd = gift_start(project, "50", name="Odd Amount")
    normal = gift_start(project, "25", name="Right Amount")
    odd_session = fake_stripe.pay(odd.checkout_session_id, amount=4000)
    hooks.deliver("checkout.session.completed", odd_session)
    assert fresh(odd).needs_review is True
    hooks.deliver("checkout.session.completed", fake_stripe.pay(normal.checkout_session_id))
    # Another event about the same charge does not repeat the note.
    hooks.deliver("charge.updated", charge_of(fake_stripe, odd.checkout_session_id))

    odd, normal = fresh(odd), fresh(normal)
    # The money moved, so the gift succeeded; it counts what Stripe charged, not what the
    # donor asked for, and finance is asked to look at it.
    assert odd.status == S.SUCCEEDED
    assert (odd.amount, odd.charged, odd.settled) == (_usd("50"), _usd("40"), _usd("40"))
    assert odd.counted == Decimal("40.00")
    assert odd.needs_review is True
    assert odd.review_reason.count("Stripe charged") == 1
    assert "$40.00" in odd.review_reason and "$50.00" in odd.review_reason
    assert TransitionLog.objects.filter(donation=odd, note__contains="Stripe charged").exists()
    assert (normal.needs_review, normal.review_reason) == (False, "")
    assert raised(project) == Decimal("65.00")
    # The receipt states what was charged, not what was asked for.
    receipts.receipt_send(donation_id=odd.pk)  # a no-op if the task already sent it
    (receipt,) = [m for m in mail.outbox if m.to == [odd.donor_email]]
    assert "Amount: $40" in receipt.body and "Amount: $50" not in receipt.body

    # Finance finds it with the admin's "needs review" filter.
    user = User.objects.create_user("finance", password="a-finance-pass-5521", is_staff=True)
    user.groups.add(Group.objects.get(name="Finance"))
    staff = Client()
    admin_login(staff, "finance", "a-finance-pass-5521")
    page = staff.get("/admin/donations/donation/", {"needs_review__exact": "1"})
    assert page.status_code == 200
    assert "Odd Amount" in page.text
    assert "Right Amount" not in page.text
    detail = staff.get(f"/admin/donations/donation/{odd.pk}/change/")
    assert detail.status_code == 200
    assert "Stripe charged" in detail.text


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
    assert all(g.settled == _usd("25") and g.counted == Decimal("25.00") for g in gifts)
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


# --- any order converges ----------------------------------------------------------------------------

REFUND_EVENTS = ("checkout.session.completed", "charge.updated", "charge.refunded")


@pytest.mark.parametrize(
    "order", list(itertools.permutations(REFUND_EVENTS)), ids=lambda o: ">".join(o)
)
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
    assert (d.charged, d.refunded) == (_eur("50"), _eur("20"))
    # Net is what was kept: 54.16 settled, less the 1.87 fee, less the refund's own balance
    # transaction (20 of 50 EUR: 21.66 USD; Stripe keeps the original fee).
    assert (d.settled, d.stripe_fee, d.net) == (_usd("54.16"), _usd("1.87"), _usd("30.63"))
    assert d.exchange_rate == Decimal("1.0832")
    kinds = sorted(LedgerEntry.objects.filter(donation=d).values_list("kind", "project_amount"))
    assert kinds == [("fee", 0), ("gift", Decimal("54.16")), ("refund", Decimal("-21.66"))]
    assert d.charge_id == charge["id"] and d.payment_intent_id == charge["payment_intent"]
    # 54.16 USD settled, 30 of 50 EUR kept: 32.496 -> 32.50
    assert (d.counted, d.counted_provisional) == (Decimal("32.50"), False)
    t = totals(project)
    assert t.raised == _usd("32.50")
    assert (t.provisional, t.gift_count, t.donor_count) == (False, 1, 1)
    left_pending = TransitionLog.objects.filter(donation=d, from_status=S.PENDING, applied=True)
    # Left pending once: straight to partially refunded when the charge came first; the
    # session's view of the charge does not list refunds (Stripe's expansion depth), so
    # after it the refund follows with the charge's own event.
    expected = S.SUCCEEDED if order[0] == "checkout.session.completed" else S.PARTIALLY_REFUNDED
    assert [row.to_status for row in left_pending] == [expected]
    assert len(mail.outbox) == 1
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}


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
    assert paid.settled == _usd("50")
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
        project=project, amount=_usd("15"), donor_name="Cut Off", donor_email="cut@example.org"
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
