"""The payment-provider interface, through both implementations: the Stripe adapter (the
real stripe-python client against the recorded-response server) and the local test
provider of the demo. Refunds first: finance and donor self-service build on them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from djmoney.money import Money

from donations.models import Donation
from donations.providers import ProviderError, provider
from donations.providers.local import LocalTestProvider
from projects.models import FundingTotals, Project
from tests.donations.event_helpers import Webhooks, charge_of, fresh, gift_start, requests_to

S = Donation.Status


def _paid(hooks: Webhooks, project: Project, fake_stripe: Any, amount: str = "50") -> str:
    d = gift_start(project, amount)
    hooks.deliver("checkout.session.completed", fake_stripe.pay(d.checkout_session_id))
    assert fresh(d).status == S.SUCCEEDED
    return str(charge_of(fake_stripe, d.checkout_session_id)["id"])


def test_stripe_refund_create_sends_the_key_and_reads_the_refund(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    charge_id = _paid(hooks, project, fake_stripe)

    refund = provider().refund_create(
        charge_id=charge_id,
        amount=Money(Decimal("12.50"), "USD"),
        idempotency_key="refund-key-1",
        metadata={"donation_id": "d1"},
    )
    again = provider().refund_create(
        charge_id=charge_id,
        amount=Money(Decimal("12.50"), "USD"),
        idempotency_key="refund-key-1",
        metadata={"donation_id": "d1"},
    )

    assert refund == again  # one refund for one key
    assert (refund.charge_id, refund.amount, refund.status) == (
        charge_id,
        Money(Decimal("12.50"), "USD"),
        "succeeded",
    )
    assert refund.balance is not None
    assert (refund.balance.amount, refund.balance.fee, refund.balance.type) == (
        Money(Decimal("-12.50"), "USD"),
        Money(0, "USD"),
        "refund",
    )
    sent = requests_to(fake_stripe, "/v1/refunds")
    assert [r["idempotency_key"] for r in sent] == ["refund-key-1", "refund-key-1"]
    assert sent[0]["params"] == {
        "charge": charge_id,
        "amount": "1250",
        "metadata": {"donation_id": "d1"},
        "expand": ["balance_transaction"],
    }
    assert fake_stripe.get(charge_id)["amount_refunded"] == 1250


def test_stripe_refuses_a_refund_over_what_remains(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    charge_id = _paid(hooks, project, fake_stripe)
    with pytest.raises(ProviderError) as refused:
        provider().refund_create(
            charge_id=charge_id,
            amount=Money(Decimal("50.01"), "USD"),
            idempotency_key="too-much",
            metadata={},
        )
    assert not refused.value.retryable
    assert "greater than unrefunded amount" in str(refused.value)
    assert fake_stripe.get(charge_id)["amount_refunded"] == 0


def test_test_provider_refunds_through_its_signed_webhook(
    project: Project, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The demo's refund: the local provider refunds and tells our webhook, which moves the
    gift to partially refunded and the thermometer down, as Stripe's event would."""
    settings.PAYMENT_PROVIDER = "test"
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # Stripe must not be called
    test_provider = provider()
    assert isinstance(test_provider, LocalTestProvider)
    d = gift_start(project, "40")
    with django_capture_on_commit_callbacks(execute=True):
        test_provider.checkout_complete(
            session_id=str(d.checkout_session_id), outcome="succeed", host="testserver"
        )
    d = fresh(d)
    assert d.status == S.SUCCEEDED and d.charge_id

    with django_capture_on_commit_callbacks(execute=True):
        refund = test_provider.refund_create(
            charge_id=str(d.charge_id),
            amount=Money(10, "USD"),
            idempotency_key="demo-refund",
            metadata={},
        )
    with django_capture_on_commit_callbacks(execute=True):
        again = test_provider.refund_create(
            charge_id=str(d.charge_id),
            amount=Money(10, "USD"),
            idempotency_key="demo-refund",
            metadata={},
        )

    assert again.id == refund.id
    assert refund.amount == Money(10, "USD") and refund.balance is not None
    d = fresh(d)
    assert (d.status, d.refunded) == (S.PARTIALLY_REFUNDED, Money(10, "USD"))
    assert FundingTotals.objects.get(project=project).raised == Money(30, "USD")
    with pytest.raises(ProviderError):
        test_provider.refund_create(
            charge_id=str(d.charge_id), amount=Money(31, "USD"), idempotency_key="x", metadata={}
        )


def test_the_test_provider_pays_out_on_beats_schedule(
    project: Project, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.conf import settings as live_settings

    from donations import tasks
    from donations.models import Payout

    settings.PAYMENT_PROVIDER = "test"
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    schedule = live_settings.CELERY_BEAT_SCHEDULE["test-provider-payout"]
    assert schedule["task"] == "donations.tasks.test_provider_payout"
    test_provider = provider()
    assert isinstance(test_provider, LocalTestProvider)
    d = gift_start(project, "40")
    with django_capture_on_commit_callbacks(execute=True):
        test_provider.checkout_complete(
            session_id=str(d.checkout_session_id), outcome="succeed", host="testserver"
        )
        payout_id = tasks.test_provider_payout()
    assert payout_id is not None
    payout = Payout.objects.get(stripe_id=payout_id)
    assert (payout.lines_status, payout.line_count) == (Payout.Lines.RECONCILED, 1)
    assert payout.amount == Money(Decimal("38.54"), "USD")  # 40 less 2.9% and 30 cents
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.test_provider_payout() is None  # nothing left to pay out
