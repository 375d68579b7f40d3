"""The test payment provider: a local "Test checkout, no money moves" page for the demo and
development, used when no Stripe key is configured (settings refuse it in production).

It keeps Stripe-shaped objects in TestProviderObject and delivers Stripe-shaped events,
signed with STRIPE_WEBHOOK_SECRET, to the real webhook endpoint, so the demo exercises the
same verification, inbox, tasks and lifecycle code as real Stripe.
"""

from __future__ import annotations

import json
import secrets
import time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.test import Client
from django.urls import reverse
from djmoney.money import Money

from donations.models import TestProviderObject
from donations.money import from_minor, quantum, to_minor
from donations.services.gateway import API_VERSION, webhook_sign

# Pretend rates, in US dollars per unit; the pretend account settles in
# DONATION_SETTLEMENT_CURRENCY, as the real one is configured to.
DEMO_USD_PER_UNIT = {
    "USD": Decimal(1),
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
    "JPY": Decimal("0.0067"),
}


class UnknownObject(Exception):
    pass


def _new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


def _put(obj: dict[str, Any]) -> dict[str, Any]:
    TestProviderObject.objects.update_or_create(object_id=obj["id"], defaults={"data": obj})
    return obj


def _get(object_id: str) -> dict[str, Any]:
    try:
        return dict(TestProviderObject.objects.get(object_id=object_id).data)
    except TestProviderObject.DoesNotExist as exc:
        raise UnknownObject(object_id) from exc


def object_retrieve(object_id: str, *, expand: list[str]) -> dict[str, Any]:
    """Like Stripe's retrieve with ``expand``: ids along each dotted path become objects."""
    obj = _get(object_id)
    for path in expand:
        _expand(obj, path.split("."))
    return obj


def _expand(obj: dict[str, Any], parts: list[str]) -> None:
    if not parts:
        return
    head, rest = parts[0], parts[1:]
    value = obj.get(head)
    if head == "data" and isinstance(value, list):
        for item in value:
            _expand(item, rest)
        return
    if isinstance(value, str):
        try:
            value = obj[head] = _get(value)
        except UnknownObject:
            return
    if isinstance(value, dict):
        _expand(value, rest)


def checkout_session_create(*, params: dict[str, Any]) -> dict[str, Any]:
    session_id = _new_id("cs")
    line = params["line_items"][0]["price_data"]
    session = {
        "id": session_id,
        "object": "checkout.session",
        "mode": params["mode"],
        "status": "open",
        "payment_status": "unpaid",
        "amount_total": line["unit_amount"],
        "currency": line["currency"],
        "client_reference_id": params.get("client_reference_id"),
        "customer_email": params.get("customer_email"),
        "customer": None,
        "metadata": params.get("metadata", {}),
        "payment_intent": None,
        "subscription": None,
        "invoice": None,
        "success_url": params["success_url"],
        "cancel_url": params["cancel_url"],
        "created": int(time.time()),
        "expires_at": int(time.time()) + 86400,
        "livemode": False,
        "url": reverse("donations:test_checkout", kwargs={"session_id": session_id}),
        "_subscription_metadata": (params.get("subscription_data") or {}).get("metadata", {}),
        "_product": line["product_data"]["name"],
    }
    return _put(session)


def session_get(session_id: str) -> dict[str, Any]:
    """A Checkout Session; UnknownObject for any other id (a charge, a balance transaction)."""
    session = _get(session_id)
    if session.get("object") != "checkout.session":
        raise UnknownObject(session_id)
    return session


def _settle(charge_id: str, amount: int, currency: str) -> dict[str, Any]:
    """A balance transaction in the account's currency, with a fee like Stripe's."""
    settles_in = settings.DONATION_SETTLEMENT_CURRENCY
    presented = from_minor(amount, currency)
    rate = None
    if currency.upper() != settles_in:
        one = Decimal(1)  # a currency without a pretend rate settles one to one
        rate = (
            DEMO_USD_PER_UNIT.get(currency.upper(), one) / DEMO_USD_PER_UNIT.get(settles_in, one)
        ).quantize(Decimal("0.000001"))
    settled = Money(presented.amount * (rate or Decimal(1)), settles_in)
    gross = to_minor(Money(settled.amount.quantize(quantum(settles_in)), settles_in))
    fee = int((Decimal(gross) * Decimal("0.029")).quantize(Decimal(1))) + 30
    return _put(
        {
            "id": _new_id("txn"),
            "object": "balance_transaction",
            "amount": gross,
            "currency": settles_in.lower(),
            "fee": fee,
            "net": gross - fee,
            "exchange_rate": float(rate) if rate else None,
            "source": charge_id,
            "status": "pending",
            "type": "charge",
        }
    )


def _pay(amount: int, currency: str, metadata: dict[str, Any]) -> dict[str, Any]:
    pi_id, charge_id = _new_id("pi"), _new_id("ch")
    bt = _settle(charge_id, amount, currency)
    _put(
        {
            "id": charge_id,
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": 0,
            "currency": currency,
            "paid": True,
            "captured": True,
            "refunded": False,
            "disputed": False,
            "status": "succeeded",
            "payment_intent": pi_id,
            "balance_transaction": bt["id"],
            "metadata": metadata,
        }
    )
    return _put(
        {
            "id": pi_id,
            "object": "payment_intent",
            "amount": amount,
            "currency": currency,
            "status": "succeeded",
            "latest_charge": charge_id,
            "metadata": metadata,
        }
    )


def checkout_complete(*, session_id: str, outcome: str, host: str) -> dict[str, Any]:
    """The donor chose an outcome on the test checkout page: "succeed", "fail" or "cancel".

    Returns the session; the matching events have been delivered to the webhook endpoint.
    """
    session = _get(session_id)
    if session["status"] != "open":
        return session
    amount, currency, meta = session["amount_total"], session["currency"], session["metadata"]
    events: list[tuple[str, dict[str, Any]]] = []
    if outcome == "cancel":
        session.update(status="expired")
        events.append(("checkout.session.expired", session))
    elif outcome == "fail":
        pi = _put(
            {
                "id": _new_id("pi"),
                "object": "payment_intent",
                "amount": amount,
                "currency": currency,
                "status": "requires_payment_method",
                "latest_charge": None,
                "metadata": meta,
            }
        )
        session.update(status="complete", payment_status="unpaid", payment_intent=pi["id"])
        events.append(("checkout.session.async_payment_failed", session))
    elif session["mode"] == "subscription":
        customer, sub_id, invoice_id = _new_id("cus"), _new_id("sub"), _new_id("in")
        pi = _pay(amount, currency, {})
        _put(
            {
                "id": sub_id,
                "object": "subscription",
                "status": "active",
                "customer": customer,
                "metadata": session["_subscription_metadata"],
            }
        )
        invoice = _put(
            {
                "id": invoice_id,
                "object": "invoice",
                "status": "paid",
                "billing_reason": "subscription_create",
                "amount_paid": amount,
                "currency": currency,
                "customer": customer,
                "parent": {
                    "type": "subscription_details",
                    "subscription_details": {
                        "subscription": sub_id,
                        "metadata": session["_subscription_metadata"],
                    },
                },
                "payments": {
                    "object": "list",
                    "data": [{"payment": {"type": "payment_intent", "payment_intent": pi["id"]}}],
                },
            }
        )
        session.update(
            status="complete",
            payment_status="paid",
            customer=customer,
            subscription=sub_id,
            invoice=invoice_id,
        )
        events += [("checkout.session.completed", session), ("invoice.paid", invoice)]
    elif outcome == "succeed":
        pi = _pay(amount, currency, meta)
        session.update(status="complete", payment_status="paid", payment_intent=pi["id"])
        charge = _get(pi["latest_charge"])
        events += [("checkout.session.completed", session), ("charge.updated", charge)]
    else:
        raise ValueError(f"Unknown test checkout outcome {outcome!r}")
    _put(session)
    for event_type, obj in events:
        event_deliver(event_type=event_type, obj=obj, host=host)
    return session


def event_deliver(*, event_type: str, obj: dict[str, Any], host: str) -> int:
    """Sign a Stripe-shaped event and post it to our own webhook endpoint (in-process)."""
    event = {
        "id": _new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {"object": {k: v for k, v in obj.items() if not k.startswith("_")}},
    }
    body = json.dumps(event)
    response = Client().post(
        reverse("donations:stripe_webhook"),
        data=body,
        content_type="application/json",
        headers={"stripe-signature": webhook_sign(body)},
        HTTP_HOST=host,
    )
    if response.status_code != 200:
        raise RuntimeError(f"Webhook refused the test event: {response.status_code}")
    return response.status_code


def webhook_host() -> str:
    hosts = [h for h in settings.ALLOWED_HOSTS if h != "*" and not h.startswith(".")]
    return hosts[0] if hosts else "localhost"
