"""The local test provider: a "Test checkout, no money moves" page for the demo and
development, used when no Stripe key is configured (settings refuse it in production).

It emulates Stripe: Stripe-shaped objects kept in TestProviderObject, Stripe's expand and
list semantics (shared with the tests' recorded-response server), and Stripe-shaped events
signed with STRIPE_WEBHOOK_SECRET posted through our own webhook endpoint, so the demo runs
the same verification, inbox, tasks and lifecycle code as real Stripe. It is the Stripe
adapter with the network replaced: only the transport methods are its own.
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from typing import Any

from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIRequest
from django.urls import reverse
from django.utils import translation
from djmoney.money import Money

from donations.models import TestProviderObject
from donations.money import from_minor, quantum, to_minor
from donations.providers import stripe_payloads
from donations.providers.base import ProviderError
from donations.providers.facts import SubscriptionFact
from donations.providers.stripe import API_VERSION, StripeProvider, webhook_sign
from donations.providers.stripe_objects import expanded, list_page, refund_movements

Json = dict[str, Any]

# Pretend rates, in US dollars per unit; the pretend account settles in
# DONATION_SETTLEMENT_CURRENCY, as the real one is configured to.
DEMO_USD_PER_UNIT = {
    "USD": Decimal(1),
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
    "JPY": Decimal("0.0067"),
}


logger = logging.getLogger(__name__)

# Seconds before each new attempt at an event the endpoint refused (then hourly), and when
# to give up: Stripe retries for up to three days with an exponential backoff.
REDELIVERY_BACKOFF = (10, 30, 60, 300, 1800, 3600)
REDELIVERY_GIVE_UP_SECONDS = 3 * 24 * 3600

# Stripe's portal sessions are short-lived too.
PORTAL_SESSION_SECONDS = 3600


class UnknownObject(Exception):
    pass


def _new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


def _put(obj: Json) -> Json:
    TestProviderObject.objects.update_or_create(object_id=obj["id"], defaults={"data": obj})
    return obj


def _lookup(object_id: str) -> Json | None:
    row = TestProviderObject.objects.filter(object_id=object_id).first()
    return dict(row.data) if row else None


def _get(object_id: str) -> Json:
    obj = _lookup(object_id)
    if obj is None:
        raise UnknownObject(object_id)
    return obj


@cache
def _handler() -> BaseHandler:
    handler = BaseHandler()
    handler.load_middleware()
    return handler


def _post_webhook(body: str, host: str) -> int:
    """POST a signed event to our own webhook endpoint, in-process, through the middleware
    and view as a real delivery would (without Django's request signals, which would close
    the database connection of the caller's transaction)."""
    data = body.encode()
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("donations:stripe_webhook")  # the unprefixed URL Stripe is given
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(data)),
        "HTTP_HOST": host,
        "HTTP_STRIPE_SIGNATURE": webhook_sign(body),
        "SERVER_NAME": host.split(":")[0],
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(data),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    response = _handler().get_response(WSGIRequest(environ))
    return int(response.status_code)


def _localised_reverse(name: str, locale: str | None, **kwargs: Any) -> str:
    languages = {code for code, _ in settings.LANGUAGES}
    language = locale if locale in languages else translation.get_language()
    with translation.override(language):
        return reverse(name, kwargs=kwargs)


def webhook_host() -> str:
    hosts = [h for h in settings.ALLOWED_HOSTS if h != "*" and not h.startswith(".")]
    return hosts[0] if hosts else "localhost"


class LocalTestProvider(StripeProvider):
    name = "test"

    # --- transport: the local object store instead of Stripe's API ------------------------
    def _retrieve(self, kind: str, object_id: str, expand: list[str] | None = None) -> Json:
        obj = _lookup(object_id)
        if obj is None or obj.get("object") != kind:
            raise ProviderError(f"No such {kind}: {object_id!r}", retryable=False)
        return expanded(obj, expand or [], _lookup)

    def _list(self, url: str, params: Json) -> Iterator[Json]:
        if url == "/v1/events":
            # Events the endpoint has not accepted yet, as Stripe lists them.
            for row in self._undelivered():
                yield {k: v for k, v in row.items() if k != "_delivery"}
            return
        if url == "/v1/balance_transactions" and params.get("payout"):
            rows = TestProviderObject.objects.filter(
                data__object="balance_transaction", data___payout=params["payout"]
            ).exclude(data__type="payout")
        elif url == "/v1/payouts":
            rows = TestProviderObject.objects.filter(
                data__object="payout",
                data__created__gte=(params.get("created") or {}).get("gte", 0),
            )
        else:
            raise ProviderError(f"The test provider does not list {url}", retryable=False)
        expand = [p.removeprefix("data.") for p in params.get("expand") or []]
        items = [row.data for row in rows.order_by("-created_at", "-object_id")]
        cursor = None
        while True:  # page by page, as Stripe answers
            page = list_page(items, url=url, limit=params.get("limit", 10), starting_after=cursor)
            for item in page["data"]:
                yield expanded(item, expand, _lookup)
            if not page["has_more"]:
                return
            cursor = page["data"][-1]["id"]

    def _create(self, kind: str, params: Json, idempotency_key: str) -> Json:
        if kind == "checkout.session":
            return self._session_create(params)
        if kind == "refund":
            return self._refund_create(params, idempotency_key)
        if kind == "billing_portal.session":
            return self._portal_create(params)
        raise ProviderError(f"The test provider does not emulate creating {kind}", retryable=False)

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

    def payout_available(self, *, host: str) -> Json | None:
        """Pay out everything available, as Stripe's automatic payout would: one payout of
        the net of every balance transaction not paid out yet, itemised, paid and
        reconciled at once; its events delivered through the signed webhook. None when
        there is nothing to pay out."""
        pending = TestProviderObject.objects.filter(data__object="balance_transaction").exclude(
            data__has_key="_payout"
        )
        lines = [row.data for row in pending.order_by("created_at", "object_id")]
        if not lines:
            return None
        currency = settings.DONATION_SETTLEMENT_CURRENCY.lower()
        total = sum(int(line["net"]) for line in lines)
        now = int(time.time())
        payout_id = _new_id("po")
        own = {
            "id": _new_id("txn"),
            "object": "balance_transaction",
            "amount": -total,
            "currency": currency,
            "fee": 0,
            "net": -total,
            "exchange_rate": None,
            "source": payout_id,
            "type": "payout",
            "reporting_category": "payout",
            "status": "available",
            "created": now,
            "available_on": now,
            "description": "STRIPE PAYOUT",
            "_payout": payout_id,
        }
        for line in lines:
            line.update(_payout=payout_id, status="available")
            _put(line)
        _put(own)
        payout = _put(
            {
                "id": payout_id,
                "object": "payout",
                "amount": total,
                "currency": currency,
                "arrival_date": now,
                "automatic": True,
                "balance_transaction": own["id"],
                "created": now,
                "description": "STRIPE PAYOUT",
                "failure_balance_transaction": None,
                "failure_code": None,
                "failure_message": None,
                "livemode": False,
                "metadata": {},
                "method": "standard",
                "reconciliation_status": "completed",
                "source_type": "card",
                "statement_descriptor": None,
                "status": "paid",
                "type": "bank_account",
            }
        )
        for event_type in ("payout.paid", "payout.reconciliation_completed"):
            self.event_deliver(event_type=event_type, obj=payout, host=host)
        return payout

    # --- the test customer portal ---------------------------------------------------------
    def _portal_create(self, params: Json) -> Json:
        session_id = _new_id("bps")
        session = {
            "id": session_id,
            "object": "billing_portal.session",
            "customer": params["customer"],
            "return_url": params["return_url"],
            "locale": params.get("locale", "auto"),
            "created": int(time.time()),
            "_expires_at": int(time.time()) + PORTAL_SESSION_SECONDS,
            "url": _localised_reverse(
                "donations:test_portal", params.get("locale"), session_id=session_id
            ),
        }
        return _put(session)

    def portal_session_get(self, session_id: str) -> Json:
        """A live portal session (like Stripe's, it expires)."""
        session = _lookup(session_id)
        if (
            session is None
            or session.get("object") != "billing_portal.session"
            or session["_expires_at"] < time.time()
        ):
            raise ProviderError("No such portal session, or it has expired", retryable=False)
        return session

    def portal_subscriptions(self, session: Json) -> list[Json]:
        """The portal session's customer's subscriptions."""
        rows = TestProviderObject.objects.filter(
            data__object="subscription", data__customer=session["customer"]
        )
        return [dict(row.data) for row in rows]

    def portal_subscription_cancel(self, *, session: Json, subscription_id: str) -> Json:
        """Cancel at once, as the portal's "cancel" does when configured so, and tell our
        webhook with the signed event Stripe sends (``customer.subscription.deleted``)."""
        subscription = _lookup(subscription_id)
        if (
            subscription is None
            or subscription.get("object") != "subscription"
            or subscription.get("customer") != session["customer"]
        ):
            raise ProviderError("No such subscription for this customer", retryable=False)
        if subscription["status"] == "canceled":
            return subscription
        subscription.update(status="canceled", canceled_at=int(time.time()))
        _put(subscription)
        self.event_deliver(
            event_type="customer.subscription.deleted", obj=subscription, host=webhook_host()
        )
        return subscription

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

    def _subscribe(self, session: Json) -> list[tuple[str, Json]]:
        amount, currency = session["amount_total"], session["currency"]
        customer, sub_id, invoice_id = _new_id("cus"), _new_id("sub"), _new_id("in")
        pi = self._pay(amount, currency, {})
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
                    "data": [
                        {
                            "object": "invoice_payment",
                            "status": "paid",
                            "payment": {"type": "payment_intent", "payment_intent": pi["id"]},
                        }
                    ],
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
        return [("checkout.session.completed", session), ("invoice.paid", invoice)]

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

    def event_deliver(self, *, event_type: str, obj: Json, host: str) -> int:
        """Sign a Stripe-shaped event and post it to our own webhook endpoint."""
        event = {
            "id": _new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "livemode": False,
            "type": event_type,
            "data": {"object": {k: v for k, v in obj.items() if not k.startswith("_")}},
        }
        row = _put({**event, "_delivery": {"pending": True, "attempts": 0, "host": host}})
        # The delivery runs through the middleware, which activates its own request's
        # language: restore the caller's afterwards.
        with translation.override(translation.get_language()):
            status = self._attempt(row)
            self.events_redeliver()
        return status

    # --- redelivery, as Stripe does it ----------------------------------------------------
    def _attempt(self, row: Json) -> int:
        """POST one stored event; remember the outcome. Never raises for a refusal: like
        Stripe, the provider keeps the event and tries again later, and the donor's
        checkout goes on (its thank-you page confirms the gift from the session)."""
        delivery = row["_delivery"]
        body = json.dumps({k: v for k, v in row.items() if k != "_delivery"})
        try:
            status = _post_webhook(body, str(delivery.get("host") or webhook_host()))
        except Exception as exc:  # noqa: BLE001 - anything the endpoint raised is a refusal
            logger.warning("Test provider: posting %s raised %s", row["id"], exc)
            status = 0
        delivery["attempts"] = int(delivery.get("attempts") or 0) + 1
        if 200 <= status < 300:
            delivery.update(pending=False, delivered_at=time.time())
        else:
            delay = REDELIVERY_BACKOFF[min(delivery["attempts"], len(REDELIVERY_BACKOFF)) - 1]
            delivery["next_at"] = time.time() + delay
            if time.time() - row["created"] > REDELIVERY_GIVE_UP_SECONDS:
                delivery["pending"] = False  # listed by events_failed_delivery, like Stripe's
            logger.warning(
                "Test provider: the webhook answered %s to %s (%s); trying again in %s s",
                status or "an error",
                row["id"],
                row["type"],
                delay,
            )
        _put(row)
        return status

    def _undelivered(self) -> Iterator[Json]:
        rows = TestProviderObject.objects.filter(
            data__object="event", data___delivery__delivered_at__isnull=True
        ).order_by("data__created")
        for row in rows:
            yield dict(row.data)

    def events_redeliver(self) -> int:
        """Send again every stored event whose retry is due; the number now delivered.
        Runs after each new delivery and every minute from beat (test_provider_redeliver)."""
        delivered = 0
        now = time.time()
        for row in self._undelivered():
            delivery = row["_delivery"]
            if delivery.get("pending") and float(delivery.get("next_at") or 0) <= now:
                delivered += 200 <= self._attempt(row) < 300
        return delivered
