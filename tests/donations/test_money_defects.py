"""Money defects a review reproduced; each test was run red on the code before its fix."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core import mail
from django.utils import timezone
from djmoney.money import Money

from donations.models import Donation, LedgerEntry, MatchAllocation, WebhookEvent
from projects.models import FundingTotals, Project
from tests.donations.event_helpers import Webhooks, charge_of, event_row, fresh, gift_start
from tests.donations.matching_helpers import live_match, pool_open
from tests.factories import DonationFactory

S = Donation.Status


def _paid_at(fake: Any, d: Donation, when: Any) -> dict[str, Any]:
    session = fake.pay(d.checkout_session_id)
    fake.update(charge_of(fake, d.checkout_session_id)["id"], created=int(when.timestamp()))
    return session


def test_a_gift_paid_before_the_pool_ended_is_matched_though_processed_after(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    now = timezone.now()
    pool = pool_open(project, cap="500", starts_at=now - timedelta(days=3), ends_at=now)
    d = gift_start(project, "100")
    session = _paid_at(fake_stripe, d, now - timedelta(minutes=1))  # paid while it was open

    hooks.deliver("checkout.session.completed", session)  # processed after it ended

    d = fresh(d)
    assert d.succeeded_at == (now - timedelta(minutes=1)).replace(microsecond=0)
    assert live_match(d) == Decimal(100)
    assert MatchAllocation.objects.get(donation=d).pool_id == pool.pk


def test_the_receipt_is_dated_when_the_donor_paid(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    d = gift_start(project, "50")
    new_years_eve = timezone.now().replace(year=2025, month=12, day=31, hour=23, minute=50)
    session = _paid_at(fake_stripe, d, new_years_eve)
    hooks.deliver("checkout.session.completed", session)
    (receipt,) = [m for m in mail.outbox if d.donor_email in m.to]
    assert "Date: 31 December 2025" in receipt.body


def test_a_eur_gift_has_eur_refunded_and_fee_covered_figures(project: Project) -> None:
    d = DonationFactory.create(project=project, amount=Money(Decimal(20), "EUR"))
    d = fresh(d)
    assert d.total_charge == Money(20, "EUR")  # was TypeError: EUR + USD
    assert d.refunded == Money(0, "EUR") and d.fee_covered == Money(0, "EUR")


def test_a_yen_match_is_whole_yen(make_project: Any) -> None:
    from tests.donations.matching_helpers import gift, succeed

    project = make_project(cost=Money(1_000_000, "JPY"))
    pool = pool_open(project, cap="100000", ratio="0.5")
    pool.cap = Money(100_000, "JPY")
    pool.save()
    d = gift(project, "3001", fee_covered=Money(0, "JPY"))
    succeed(d)
    assert live_match(d) == Decimal(1500)  # not 1,500.50: yen has no minor unit
    assert FundingTotals.objects.get(project=project).matched.amount == Decimal(1500)


def test_an_appeal_won_after_a_lost_dispute_reinstates_the_gift(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    d = gift_start(project, "50")
    hooks.deliver("checkout.session.completed", fake_stripe.pay(d.checkout_session_id))
    dispute = fake_stripe.dispute(
        charge_of(fake_stripe, d.checkout_session_id)["id"], "needs_response"
    )
    hooks.deliver("charge.dispute.created", dispute)
    hooks.deliver("charge.dispute.closed", fake_stripe.update(dispute["id"], status="lost"))
    assert fresh(d).status == S.REFUNDED and fresh(d).counted == 0
    hooks.deliver(
        "charge.dispute.updated", fake_stripe.update(dispute["id"], status="appeal_under_review")
    )
    assert fresh(d).status == S.REFUNDED  # still withdrawn while the appeal runs

    hooks.deliver("charge.dispute.closed", fake_stripe.dispute_won(dispute["id"]))

    d = fresh(d)
    assert (d.status, d.counted) == (S.SUCCEEDED, Decimal("50.00"))
    assert FundingTotals.objects.get(project=project).raised.amount == Decimal("50.00")


def test_an_uncaptured_charge_is_not_counted(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    d = gift_start(project, "50")
    fake_stripe.pay(d.checkout_session_id)
    charge = charge_of(fake_stripe, d.checkout_session_id)
    charge = fake_stripe.update(charge["id"], captured=False, amount_captured=0)
    hooks.deliver("charge.succeeded", charge)
    assert fresh(d).status == S.PENDING
    assert FundingTotals.objects.get(project=project).raised.amount == 0
    assert not LedgerEntry.objects.filter(donation=d).exists()


def test_another_products_charge_on_a_shared_account_is_ignored(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    """A charge with none of our metadata, which no gift of ours knows: not retried 25
    times and reported hourly, but recognised and marked ignored."""
    pi_id = "pi_other_product"
    ch_id = fake_stripe.settle(pi_id, amount=1200, currency="usd", fee=65, metadata={})
    hooks.deliver("charge.succeeded", fake_stripe.get(ch_id), event_id="evt_test_other")
    row = event_row("evt_test_other")
    assert row.status == WebhookEvent.Status.IGNORED
    assert "no gift of ours" in row.last_error


# --- monthly gifts ----------------------------------------------------------------------


def _monthly(hooks: Webhooks, project: Project, fake: Any) -> tuple[Donation, dict[str, Any]]:
    plan = gift_start(project, "25", frequency=Donation.Frequency.MONTHLY)
    sub, first = fake.subscribe(plan.checkout_session_id)
    hooks.deliver("checkout.session.completed", fake.get(plan.checkout_session_id))
    hooks.deliver("invoice.paid", first)
    return plan, sub


def test_an_invoice_takes_its_paid_payment_not_a_canceled_one_listed_first(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    _, sub = _monthly(hooks, project, fake_stripe)
    invoice = fake_stripe.invoice(
        sub["id"], billing_reason="subscription_cycle", amount=2500, currency="usd"
    )
    paid = fake_stripe.get(invoice["_payments"][0])
    failed_pi = dict(
        fake_stripe.get(paid["payment"]["payment_intent"]),
        id="pi_test_canceled",
        latest_charge=None,
        status="canceled",
    )
    fake_stripe.put(failed_pi)
    canceled = fake_stripe.put(
        dict(
            paid,
            id="inpay_canceled",
            status="canceled",
            payment={"type": "payment_intent", "payment_intent": failed_pi["id"]},
        )
    )
    invoice = fake_stripe.update(invoice["id"], _payments=[canceled["id"], paid["id"]])

    hooks.deliver("invoice.paid", invoice)

    instalment = Donation.objects.get(invoice_id=invoice["id"])
    assert instalment.status == S.SUCCEEDED
    assert instalment.payment_intent_id == paid["payment"]["payment_intent"]
    assert instalment.settled == Money(25, "USD")


def test_a_draft_invoice_with_nothing_paid_is_no_instalment(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    _, sub = _monthly(hooks, project, fake_stripe)
    invoice = fake_stripe.invoice(
        sub["id"], billing_reason="subscription_cycle", amount=2500, currency="usd"
    )
    invoice = fake_stripe.update(invoice["id"], status="draft", amount_paid=0, _payments=[])
    hooks.deliver("invoice.paid", invoice)
    assert not Donation.objects.filter(invoice_id=invoice["id"], status=S.SUCCEEDED).exists()
    assert FundingTotals.objects.get(project=project).raised.amount == Decimal("25.00")


def test_a_failed_instalment_is_recorded_and_a_later_retry_succeeds_it(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    plan, sub = _monthly(hooks, project, fake_stripe)
    invoice = fake_stripe.invoice(
        sub["id"], billing_reason="subscription_cycle", amount=2500, currency="usd"
    )
    paid_payments = invoice["_payments"]
    failing = fake_stripe.update(invoice["id"], status="open", amount_paid=0, _payments=[])

    hooks.deliver("invoice.payment_failed", failing)

    instalment = Donation.objects.get(invoice_id=invoice["id"])
    assert (instalment.status, instalment.parent_id) == (S.FAILED, plan.pk)
    assert FundingTotals.objects.get(project=project).raised.amount == Decimal("25.00")

    hooks.deliver(
        "invoice.paid",
        fake_stripe.update(invoice["id"], status="paid", amount_paid=2500, _payments=paid_payments),
    )
    instalment = fresh(instalment)
    assert instalment.status == S.SUCCEEDED and not instalment.needs_review
    assert FundingTotals.objects.get(project=project).raised.amount == Decimal("50.00")


def test_a_past_due_subscription_is_recorded(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    plan, sub = _monthly(hooks, project, fake_stripe)
    hooks.deliver("customer.subscription.updated", fake_stripe.update(sub["id"], status="past_due"))
    assert fresh(plan).subscription_status == "past_due"
    hooks.deliver("customer.subscription.updated", fake_stripe.update(sub["id"], status="unpaid"))
    assert fresh(plan).subscription_status == "unpaid"


def test_provisional_stays_true_while_another_foreign_gift_waits_for_its_rate(
    transactional_db: None, project: Project
) -> None:
    """Gift A's rate arrives while gift B has just become provisional in a transaction that
    holds the totals row. A's UPDATE waits for the row; B commits. The provisional flag must
    see B (under READ COMMITTED a subquery inside the waiting UPDATE does not)."""
    import threading
    import time as clock

    from django.db import connections, transaction

    from donations.providers.facts import BalanceFact, PaymentFact
    from donations.services import lifecycle
    from tests.donations.matching_helpers import gift

    a = DonationFactory.create(project=project, amount=Money(Decimal(40), "EUR"))
    b = gift(project, "10")
    unsettled = PaymentFact(
        charge_id="ch_a", donation_id=str(a.pk), charged=Money(40, "EUR"), paid=True
    )
    lifecycle.donation_charge_sync(donation_id=a.pk, payment=unsettled)
    assert FundingTotals.objects.get(project=project).provisional

    holding = threading.Event()

    def b_becomes_provisional() -> None:
        try:
            with transaction.atomic():
                Donation.objects.filter(pk=b.pk).update(counted_provisional=True)
                FundingTotals.objects.select_for_update().get(project=project)
                holding.set()
                clock.sleep(1.0)  # A's transition is now waiting for the totals row
        finally:
            connections.close_all()

    other = threading.Thread(target=b_becomes_provisional)
    other.start()
    assert holding.wait(10)
    settled = BalanceFact(
        id="txn_a",
        amount=Money("43.20", "USD"),
        fee=Money("1.55", "USD"),
        net=Money("41.65", "USD"),
    )
    lifecycle.donation_charge_sync(
        donation_id=a.pk,
        payment=PaymentFact(
            charge_id="ch_a",
            donation_id=str(a.pk),
            charged=Money(40, "EUR"),
            paid=True,
            balance_transaction_id="txn_a",
            balance=settled,
        ),
    )
    other.join()
    assert not fresh(a).counted_provisional
    assert FundingTotals.objects.get(project=project).provisional  # B still waits
