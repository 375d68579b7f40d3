"""Processing Stripe's events for one gift: refunds, settlement in the project's currency,
disputes, the Checkout Session's own outcomes, and a charge that differs from the gift."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group, User
from django.core import mail
from django.test import Client

from donations.models import Donation, TransitionLog, WebhookEvent
from donations.providers import stripe_payloads
from donations.services import lifecycle, receipts
from tests.conftest import admin_login
from tests.donations.event_helpers import (
    Webhooks,
    applied_actions,
    charge_of,
    delayed_payment_fails,
    delayed_payment_succeeds,
    eur,
    fresh,
    gift_start,
    pay_delayed,
    raised,
    receipts_to,
    totals,
    usd,
)

S = Donation.Status


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
    assert (d.charged, d.refunded) == (usd("50"), usd("50"))
    assert d.charge_id == charge["id"]
    assert d.refunded_at is not None
    assert raised(project) == 0

    hooks.deliver("checkout.session.completed", session)

    d = fresh(d)
    assert d.status == S.REFUNDED  # the late completion does not resurrect the gift
    assert d.refunded == usd("50")
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
    assert (d.charged, d.refunded) == (usd("50"), usd("20"))
    assert d.settled == usd("50")
    assert d.counted == Decimal("30.00")
    t = totals(project)
    assert (t.raised.amount, t.gift_count, t.donor_count) == (Decimal("30.00"), 1, 1)
    assert len(mail.outbox) == 1  # money was kept: the donor gets a receipt

    # A stale copy of the charge (read before the refund) never shrinks what was refunded.
    stale = fake_stripe.update(charge["id"], amount_refunded=0, refunded=False)
    hooks.deliver("charge.updated", stale)
    d = fresh(d)
    assert (d.status, d.refunded, d.counted) == (S.PARTIALLY_REFUNDED, usd("20"), Decimal("30"))
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
    assert d.charged == eur("50")
    assert (d.settled, d.stripe_fee, d.net, d.exchange_rate) == (None, None, None, None)
    assert (d.counted, d.counted_provisional) == (0, True)
    t = totals(project)
    assert (t.raised.amount, t.provisional, t.gift_count) == (0, True, 0)

    charge = fake_stripe.update(charge["id"], balance_transaction=txn_id)
    hooks.deliver("charge.updated", charge)

    d = fresh(d)
    assert d.status == S.SUCCEEDED
    assert d.balance_transaction_id == txn_id
    assert d.settled == usd("54.16")
    assert d.stripe_fee == usd("1.87")
    assert d.net == usd("52.29")
    assert d.exchange_rate == Decimal("1.0832")
    assert (d.counted, d.counted_provisional) == (Decimal("54.16"), False)
    t = totals(project)
    assert t.raised == usd("54.16")
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
    assert (d.charged, d.settled, d.stripe_fee) == (usd("50"), usd("50"), usd("0.40"))
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
    assert (odd.amount, odd.charged, odd.settled) == (usd("50"), usd("40"), usd("40"))
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
