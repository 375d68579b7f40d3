"""The local provider's test checkout: Checkout Sessions, the payment (or subscription)
the donor chooses on the test page, settlement at pretend rates, refunds and cancelling a
monthly gift, each delivering the events Stripe would."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from django.conf import settings
from djmoney.money import Money

from donations.money import from_minor, quantum, to_minor
from donations.providers import stripe_payloads
from donations.providers.base import ProviderError
from donations.providers.facts import SubscriptionFact
from donations.providers.local.delivery import LocalEventDelivery, webhook_host
from donations.providers.local.store import (
    UnknownObject,
    _get,
    _localised_reverse,
    _lookup,
    _new_id,
    _put,
)
from donations.providers.stripe_objects import refund_movements

Json = dict[str, Any]

# Pretend rates, in US dollars per unit; the pretend account settles in
# DONATION_SETTLEMENT_CURRENCY, as the real one is configured to.
DEMO_USD_PER_UNIT = {
    "USD": Decimal(1),
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
    "JPY": Decimal("0.0067"),
}


class LocalCheckout(LocalEventDelivery):
    # --- the test checkout ----------------------------------------------------------------
    def _session_create(self, params: Json) -> Json:
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
            "locale": params.get("locale", "auto"),
            # Like Stripe's, the checkout page opens in the session's locale.
            "url": _localised_reverse(
                "donations:test_checkout", params.get("locale"), session_id=session_id
            ),
            # Our own bookkeeping (Stripe keeps it on the subscription it will create);
            # never part of what is delivered or retrieved through the adapter.
            "_subscription_metadata": (params.get("subscription_data") or {}).get("metadata", {}),
        }
        return _put(session)

    def _refund_create(self, params: Json, idempotency_key: str) -> Json:
        """Refund at once (a card refund Stripe accepts), then tell our webhook as Stripe
        would (``charge.refunded``). The same key returns the same refund."""
        key_id = f"idem_{idempotency_key}"
        done = _lookup(key_id)
        if done is not None:
            return self._retrieve("refund", done["refund"], ["balance_transaction"])
        charge = _lookup(str(params.get("charge")))
        if charge is None or charge.get("object") != "charge":
            raise ProviderError(f"No such charge: {params.get('charge')!r}", retryable=False)
        bt_id = charge.get("balance_transaction")
        try:
            refund, bt, changes = refund_movements(
                charge,
                _lookup(bt_id) if isinstance(bt_id, str) else None,
                int(params["amount"]),
                refund_id=_new_id("re"),
                txn_id=_new_id("txn"),
                now=int(time.time()),
            )
        except ValueError as exc:
            raise ProviderError(f"Stripe refused the request: {exc}", retryable=False) from exc
        refund["metadata"] = params.get("metadata") or {}
        _put(bt)
        _put(refund)
        charge.update(changes)
        _put(charge)
        _put({"id": key_id, "object": "idempotency", "refund": refund["id"]})
        self.event_deliver(event_type="charge.refunded", obj=charge, host=webhook_host())
        return self._retrieve("refund", refund["id"], ["balance_transaction"])

    def session_get(self, session_id: str) -> Json:
        """A Checkout Session for the test checkout page; UnknownObject for any other id."""
        session = _get(session_id)
        if session.get("object") != "checkout.session":
            raise UnknownObject(session_id)
        return session

    def _settle(self, charge_id: str, amount: int, currency: str) -> Json:
        """A balance transaction in the account's currency, with a fee like Stripe's."""
        settles_in = settings.DONATION_SETTLEMENT_CURRENCY
        presented = from_minor(amount, currency)
        rate = None
        if currency.upper() != settles_in:
            one = Decimal(1)  # a currency without a pretend rate settles one to one
            rate = (
                DEMO_USD_PER_UNIT.get(currency.upper(), one)
                / DEMO_USD_PER_UNIT.get(settles_in, one)
            ).quantize(Decimal("0.000001"))
        settled = Money(presented.amount * (rate or Decimal(1)), settles_in)
        gross = to_minor(Money(settled.amount.quantize(quantum(settles_in)), settles_in))
        fee = int((Decimal(gross) * Decimal("0.029")).quantize(Decimal(1))) + 30
        now = int(time.time())
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
                "reporting_category": "charge",
                "created": now,
                "available_on": now,
                "description": None,
            }
        )

    def _pay(self, amount: int, currency: str, metadata: Json) -> Json:
        pi_id, charge_id = _new_id("pi"), _new_id("ch")
        bt = self._settle(charge_id, amount, currency)
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
                "created": int(time.time()),
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

    def checkout_complete(self, *, session_id: str, outcome: str, host: str) -> Json:
        """The donor chose an outcome on the test checkout page: "succeed", "fail" or
        "cancel". Returns the session; the matching events have been delivered."""
        session = _get(session_id)
        if session["status"] != "open":
            return session
        amount, currency, meta = session["amount_total"], session["currency"], session["metadata"]
        events: list[tuple[str, Json]] = []
        if outcome == "cancel":
            session.update(status="expired")
            events.append(("checkout.session.expired", session))
        elif outcome == "fail" and session["mode"] == "subscription":
            events += self._subscribe_fails(session)
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
            events += self._subscribe(session)
        elif outcome == "succeed":
            pi = self._pay(amount, currency, meta)
            session.update(status="complete", payment_status="paid", payment_intent=pi["id"])
            charge = _get(pi["latest_charge"])
            events += [("checkout.session.completed", session), ("charge.updated", charge)]
        else:
            raise ValueError(f"Unknown test checkout outcome {outcome!r}")
        _put(session)
        for event_type, obj in events:
            self.event_deliver(event_type=event_type, obj=obj, host=host)
        return session

    def _subscription_start(self, session: Json, *, paid: bool) -> tuple[Json, Json]:
        """The subscription and its first invoice, as Stripe makes them when a subscription
        checkout completes: paid, or (a declined card, a returned bank debit) an
        ``incomplete`` subscription whose first invoice stays ``open`` with its payment
        intent back at ``requires_payment_method``. A subscription-mode session never
        carries a payment intent of its own; the first payment is on the invoice."""
        amount, currency = session["amount_total"], session["currency"]
        customer, sub_id, invoice_id = _new_id("cus"), _new_id("sub"), _new_id("in")
        if paid:
            pi = self._pay(amount, currency, {})
        else:
            pi = _put(
                {
                    "id": _new_id("pi"),
                    "object": "payment_intent",
                    "amount": amount,
                    "currency": currency,
                    "status": "requires_payment_method",
                    "latest_charge": None,
                    "last_payment_error": {"code": "card_declined", "type": "card_error"},
                    "metadata": {},
                }
            )
        sub = _put(
            {
                "id": sub_id,
                "object": "subscription",
                "status": "active" if paid else "incomplete",
                "customer": customer,
                "latest_invoice": invoice_id,
                "metadata": session["_subscription_metadata"],
            }
        )
        invoice = _put(
            {
                "id": invoice_id,
                "object": "invoice",
                "status": "paid" if paid else "open",
                "billing_reason": "subscription_create",
                "amount_due": amount,
                "amount_paid": amount if paid else 0,
                "amount_remaining": 0 if paid else amount,
                "attempted": True,
                "attempt_count": 1,
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
                    "data": [
                        {
                            "object": "invoice_payment",
                            "is_default": True,
                            "status": "paid" if paid else "open",
                            "payment": {"type": "payment_intent", "payment_intent": pi["id"]},
                        }
                    ],
                },
            }
        )
        session.update(
            status="complete",
            payment_status="paid" if paid else "unpaid",
            customer=customer,
            subscription=sub_id,
            invoice=invoice_id,
        )
        return sub, invoice

    def _subscribe(self, session: Json) -> list[tuple[str, Json]]:
        _sub, invoice = self._subscription_start(session, paid=True)
        return [("checkout.session.completed", session), ("invoice.paid", invoice)]

    def _subscribe_fails(self, session: Json) -> list[tuple[str, Json]]:
        """A monthly checkout whose first payment fails, with Stripe's events for it."""
        _sub, invoice = self._subscription_start(session, paid=False)
        return [
            ("checkout.session.completed", session),
            ("invoice.payment_failed", invoice),
            ("checkout.session.async_payment_failed", session),
        ]

    def subscription_cancel(
        self, *, subscription_id: str, idempotency_key: str
    ) -> SubscriptionFact:
        """Cancel at once, as Stripe's DELETE does, and deliver customer.subscription.deleted
        (a plan already cancelled is returned as it is, with no second event)."""
        sub = _lookup(subscription_id)
        if sub is None or sub.get("object") != "subscription":
            raise ProviderError(f"No such subscription: {subscription_id!r}", retryable=False)
        if sub["status"] != "canceled":
            sub.update(status="canceled", canceled_at=int(time.time()))
            _put(sub)
            self.event_deliver(
                event_type="customer.subscription.deleted", obj=sub, host=webhook_host()
            )
        return stripe_payloads.subscription_fact(sub)
