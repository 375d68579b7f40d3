"""The desk's refunds and monthly-gift cancels through the Stripe adapter: the real
stripe-python client against the recorded-response server, Stripe's events signed and
posted to the webhook as Stripe would."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.test import Client

from donations.models import Donation
from finance.models import RefundRequest
from finance.services import desk_refunds as refunds
from projects.models import Project
from tests.donations.event_helpers import Webhooks, charge_of, fresh, gift_start, requests_to


def test_a_refund_through_stripe_is_pending_until_its_event(
    hooks: Webhooks, project: Project, fake_stripe: Any, finance_client: Client
) -> None:
    d = gift_start(project, "50")
    hooks.deliver("checkout.session.completed", fake_stripe.pay(d.checkout_session_id))
    d = fresh(d)
    assert d.status == Donation.Status.SUCCEEDED
    page = finance_client.get(f"/admin/donations/donation/{d.pk}/refund/").content.decode()
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    data = {"key": key, "amount": "20", "reason": "requested_by_customer", "note": ""}
    assert finance_client.post(f"/admin/donations/donation/{d.pk}/refund/", data).status_code == 302
    assert finance_client.post(f"/admin/donations/donation/{d.pk}/refund/", data).status_code == 302
    sent = requests_to(fake_stripe, "/v1/refunds")
    assert [r["idempotency_key"] for r in sent] == [f"refund-request-{key}"]  # once
    assert sent[0]["params"]["amount"] == "2000"
    rr = RefundRequest.objects.get()
    assert rr.state == RefundRequest.State.SENT and rr.provider_status == "succeeded"
    assert not refunds.refund_confirmed(rr)  # Stripe's event has not come yet
    assert refunds.refundable(fresh(d)).amount == Decimal("30.00")
    hooks.deliver("charge.refunded", charge_of(fake_stripe, d.checkout_session_id))
    d = fresh(d)
    assert d.refunded.amount == Decimal("20.00")
    assert d.status == Donation.Status.PARTIALLY_REFUNDED
    assert refunds.refund_confirmed(rr)
    # Stripe refuses more than remains; the request says so and frees the amount.
    fake_stripe.fail_next("/v1/refunds", 400)
    response = finance_client.post(
        f"/admin/donations/donation/{d.pk}/refund/",
        {**data, "key": "0b1f5e36-3c55-4a0c-9d4e-2f4b7d3a9c10", "amount": "5"},
    )
    assert response.status_code == 400 and "Stripe refused the request" in response.content.decode()
    assert RefundRequest.objects.filter(state="failed").count() == 1
    assert refunds.refundable(fresh(d)).amount == Decimal("30.00")


def test_cancelling_a_monthly_gift_calls_stripe_and_records_its_event(
    hooks: Webhooks, project: Project, fake_stripe: Any, finance_client: Client
) -> None:
    plan = gift_start(project, "25", frequency=Donation.Frequency.MONTHLY)
    sub, invoice = fake_stripe.subscribe(plan.checkout_session_id)
    hooks.deliver("checkout.session.completed", fake_stripe.get(plan.checkout_session_id))
    hooks.deliver("invoice.paid", invoice)
    plan = fresh(plan)
    assert plan.subscription_id == sub["id"]
    response = finance_client.post(
        f"/admin/donations/donation/{plan.pk}/cancel-monthly/", {"reason": ""}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    deletes = [r for r in requests_to(fake_stripe, "/v1/subscriptions/") if r["method"] == "DELETE"]
    assert [r["idempotency_key"] for r in deletes] == [f"cancel-{sub['id']}"]
    hooks.deliver("customer.subscription.deleted", fake_stripe.get(sub["id"]))
    assert fresh(plan).subscription_status == "canceled"


def test_a_refund_stripe_did_not_answer_is_sent_again_with_the_same_key(
    hooks: Webhooks, project: Project, fake_stripe: Any, finance_client: Client
) -> None:
    d = gift_start(project, "50")
    hooks.deliver("checkout.session.completed", fake_stripe.pay(d.checkout_session_id))
    page = finance_client.get(f"/admin/donations/donation/{d.pk}/refund/").content.decode()
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    data = {"key": key, "amount": "10", "reason": "other", "note": ""}
    fake_stripe.fail_next("/v1/refunds", 500, 500, 500, 500)  # every retry of the client
    response = finance_client.post(f"/admin/donations/donation/{d.pk}/refund/", data)
    assert response.status_code == 400
    assert "the request is kept: send it again" in response.content.decode()
    rr = RefundRequest.objects.get()
    assert rr.state == RefundRequest.State.REQUESTED
    assert refunds.refundable(fresh(d)).amount == Decimal("40.00")  # held for it
    assert finance_client.post(f"/admin/donations/donation/{d.pk}/refund/", data).status_code == 302
    rr.refresh_from_db()
    assert rr.state == RefundRequest.State.SENT
    keys = {r["idempotency_key"] for r in requests_to(fake_stripe, "/v1/refunds")}
    assert keys == {f"refund-request-{key}"}
    assert RefundRequest.objects.count() == 1
