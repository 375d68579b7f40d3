"""The Stripe adapter: the one module that imports ``stripe``.

Requests go through stripe-python's ``StripeClient`` (pinned API version, retries, error
mapping); answers are read by ``stripe_payloads`` into plain facts. The transport methods
(``_retrieve``, ``_list``, ``_create``) are all the network there is: the local test
provider subclasses this class and replaces only them.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from functools import cache
from typing import Any, TypeVar
from urllib.parse import quote

import stripe
from django.conf import settings
from djmoney.money import Money

from donations.money import to_minor
from donations.providers import stripe_payloads as p
from donations.providers.base import (
    Fact,
    MalformedEvent,
    PaymentProvider,
    ProviderError,
    SignatureError,
)
from donations.providers.facts import (
    BalanceFact,
    CheckoutRequest,
    CheckoutStarted,
    DisputeFact,
    EventRef,
    InvoiceFact,
    PaymentFact,
    PayoutFact,
    RefundFact,
    SessionFact,
    SubscriptionFact,
    VerifiedEvent,
)

# Pinned: payload shapes (e.g. invoice.parent.subscription_details) depend on it.
API_VERSION = "2026-10-28.endive"
WEBHOOK_TOLERANCE_SECONDS = 300
RATE_LIMIT_RETRIES = 3
PAGE_SIZE = 100

T = TypeVar("T")
Json = dict[str, Any]

# Which object each handled event is about; processing re-fetches it (payloads can be stale).
EVENT_OBJECTS: dict[str, str] = {
    "checkout.session.completed": "checkout.session",
    "checkout.session.async_payment_succeeded": "checkout.session",
    "checkout.session.async_payment_failed": "checkout.session",
    "checkout.session.expired": "checkout.session",
    "charge.succeeded": "charge",
    "charge.updated": "charge",
    "charge.refunded": "charge",
    # A refund that fails (the card was closed) gives the money back: its charge again.
    "charge.refund.updated": "refund",
    "refund.updated": "refund",
    "refund.failed": "refund",
    "charge.dispute.created": "dispute",
    "charge.dispute.updated": "dispute",
    "charge.dispute.closed": "dispute",
    "invoice.paid": "invoice",
    "invoice.payment_failed": "invoice",
    "customer.subscription.updated": "subscription",
    "customer.subscription.deleted": "subscription",
    "payout.paid": "payout",
    "payout.updated": "payout",
    "payout.failed": "payout",
    "payout.reconciliation_completed": "payout",
}

RESOURCE_PATHS: dict[str, str] = {
    "checkout.session": "/v1/checkout/sessions",
    "charge": "/v1/charges",
    "dispute": "/v1/disputes",
    "invoice": "/v1/invoices",
    "subscription": "/v1/subscriptions",
    "payment_intent": "/v1/payment_intents",
    "balance_transaction": "/v1/balance_transactions",
    "payout": "/v1/payouts",
    "refund": "/v1/refunds",
    "billing_portal.session": "/v1/billing_portal/sessions",
    "event": "/v1/events",
}

# A charge is always read with its balance transaction and its refunds (each with its own).
CHARGE_EXPAND = [
    "balance_transaction",
    "refunds.data.balance_transaction",
    "refunds.data.failure_balance_transaction",
]
# A session's charge comes without its refunds (Stripe's expansion depth is limited):
# refunds are applied from the charge's own events, which always list them.
SESSION_EXPAND = ["payment_intent.latest_charge.balance_transaction"]


@cache
def _client(api_key: str, api_base: str, retries: int, timeout: int) -> stripe.StripeClient:
    bases: dict[str, str] = {"api": api_base} if api_base else {}
    return stripe.StripeClient(
        api_key,
        stripe_version=API_VERSION,
        base_addresses=bases,  # type: ignore[arg-type]
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def _call(fn: Callable[[], T]) -> T:
    """Run one API call. stripe-python itself retries connection errors, 409 and 5xx with
    backoff; a 429 it retries only when Stripe says so, so we back off on it here too."""
    for attempt in range(RATE_LIMIT_RETRIES + 1):
        try:
            return fn()
        except stripe.RateLimitError as exc:
            if attempt == RATE_LIMIT_RETRIES:
                raise ProviderError(f"Stripe rate limit: {exc}", retryable=True) from exc
            time.sleep(min(0.5 * 2**attempt, 4) * (0.5 + random.random()))  # noqa: S311
        except (stripe.APIConnectionError, stripe.APIError) as exc:
            raise ProviderError(f"Stripe unavailable: {exc}", retryable=True) from exc
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe refused the request: {exc}", retryable=False) from exc
    raise AssertionError("unreachable")


def session_params(request: CheckoutRequest) -> Json:
    """The Checkout Session a gift asks for (``mode=payment`` with ``submit_type=donate``, or
    ``mode=subscription`` for a monthly gift), amount from ``price_data``."""
    price_data: Json = {
        "currency": str(request.amount.currency).lower(),
        "unit_amount": to_minor(request.amount),
        "product_data": {"name": request.description[:250]},
    }
    params: Json = {
        "client_reference_id": request.donation_id,
        "customer_email": request.donor_email,
        "metadata": dict(request.metadata),
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
        "locale": request.locale,
    }
    if request.monthly:
        price_data["recurring"] = {"interval": "month"}
        params.update(mode="subscription", subscription_data={"metadata": dict(request.metadata)})
    else:
        params.update(
            mode="payment",
            submit_type="donate",
            payment_intent_data={
                "metadata": dict(request.metadata),
                "description": request.description[:250],
            },
        )
    params["line_items"] = [{"quantity": 1, "price_data": price_data}]
    return params


def webhook_sign(payload: str, *, secret: str | None = None, timestamp: int | None = None) -> str:
    """A Stripe-Signature header for a body (the local test provider signs its events)."""
    return str(
        stripe.WebhookSignature.generate_signature_header(
            payload, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp=timestamp
        )
    )


class StripeProvider(PaymentProvider):
    name = "stripe"
    handled_event_types = tuple(EVENT_OBJECTS)

    # --- transport (the local test provider replaces these) -------------------------------
    def client(self) -> stripe.StripeClient:
        return _client(
            settings.STRIPE_SECRET_KEY,
            settings.STRIPE_API_BASE,
            settings.STRIPE_MAX_NETWORK_RETRIES,
            settings.STRIPE_TIMEOUT_SECONDS,
        )

    def _request(self, method: str, url: str, params: Json, idempotency_key: str = "") -> Json:
        """One raw request: same authentication, API version, retries and error mapping as
        the typed services, and Stripe's JSON as is (building typed objects only to turn
        them back into dicts cost more than the rest of processing an event)."""
        options: Json = {"idempotency_key": idempotency_key} if idempotency_key else {}
        response = _call(lambda: self.client().raw_request(method, url, **params, **options))
        data = response.data
        if not isinstance(data, dict):
            raise ProviderError(f"Stripe answered {url} with no object", retryable=True)
        return data

    def _retrieve(self, kind: str, object_id: str, expand: list[str] | None = None) -> Json:
        url = f"{RESOURCE_PATHS[kind]}/{quote(object_id, safe='')}"
        return self._request("get", url, {"expand": expand} if expand else {})

    def _list(self, url: str, params: Json) -> Iterator[Json]:
        """Every item of a list, page after page (``starting_after`` the last id)."""
        params = {"limit": PAGE_SIZE, **params}
        while True:
            page = self._request("get", url, params)
            data = page.get("data") or []
            yield from data
            if not page.get("has_more") or not data:
                return
            params = {**params, "starting_after": data[-1]["id"]}

    def _create(self, kind: str, params: Json, idempotency_key: str) -> Json:
        return self._request("post", RESOURCE_PATHS[kind], params, idempotency_key)

    # --- the interface ---------------------------------------------------------------------
    def checkout_session_create(
        self, *, request: CheckoutRequest, idempotency_key: str
    ) -> CheckoutStarted:
        session = self._create("checkout.session", session_params(request), idempotency_key)
        return CheckoutStarted(session_id=session["id"], url=str(session["url"]))

    def checkout_session_get(self, session_id: str) -> SessionFact:
        session = p.session_fact(self._retrieve("checkout.session", session_id, SESSION_EXPAND))
        if (
            session.mode == "subscription"
            and session.status == "complete"
            and session.payment_status not in {"paid", "no_payment_required"}
        ):
            return replace(session, payment_intent_status=self._first_payment_status(session))
        return session

    def _first_payment_status(self, session: SessionFact) -> str | None:
        """A subscription checkout that completed unpaid (a delayed payment method): the
        status of its first invoice's payment intent, as for a one-time gift, so that a
        failed first payment fails the gift instead of leaving it pending for ever. An
        invoice voided, or a subscription Stripe expired or cancelled, counts as canceled."""
        if session.subscription_id:
            sub = self._retrieve("subscription", session.subscription_id)
            if sub.get("status") in {"incomplete_expired", "canceled"}:
                return "canceled"
        if not session.invoice_id:
            return None
        invoice = self._retrieve("invoice", session.invoice_id, ["payments"])
        if invoice.get("status") in {"void", "uncollectible"}:
            return "canceled"
        # Not only a paid attempt: a failed first payment leaves its attempt open.
        pi_id = p.invoice_collecting_payment_intent_id(invoice)
        if not pi_id:
            return None
        return str(self._retrieve("payment_intent", pi_id).get("status") or "") or None

    def payment_get(self, charge_id: str) -> PaymentFact:
        return p.payment_fact(self._retrieve("charge", charge_id, CHARGE_EXPAND))

    def dispute_get(self, dispute_id: str) -> DisputeFact:
        dispute = self._retrieve("dispute", dispute_id)
        charge = self._retrieve("charge", str(p.ref_id(dispute["charge"])), CHARGE_EXPAND)
        return p.dispute_fact(dispute, charge)

    def invoice_get(self, invoice_id: str) -> InvoiceFact:
        invoice = self._retrieve("invoice", invoice_id, ["payments"])
        charge = None
        pi_id = p.invoice_payment_intent_id(invoice)
        if pi_id:
            pi = self._retrieve(
                "payment_intent", pi_id, [f"latest_charge.{path}" for path in CHARGE_EXPAND]
            )
            if isinstance(pi.get("latest_charge"), dict):
                charge = pi["latest_charge"]
        return p.invoice_fact(invoice, charge)

    def refund_charge_get(self, refund_id: str) -> PaymentFact:
        """The charge a refund belongs to, with all its refunds (this one's new status)."""
        refund = self._retrieve("refund", refund_id)
        return self.payment_get(str(p.ref_id(refund["charge"])))

    def portal_session_create(self, *, customer_id: str, return_url: str, locale: str) -> str:
        params: Json = {"customer": customer_id, "return_url": return_url, "locale": locale}
        if settings.STRIPE_PORTAL_CONFIGURATION:
            params["configuration"] = settings.STRIPE_PORTAL_CONFIGURATION
        session = self._create("billing_portal.session", params, "")
        return str(session["url"])

    def subscription_get(self, subscription_id: str) -> SubscriptionFact:
        return p.subscription_fact(self._retrieve("subscription", subscription_id))

    def event_fact(self, event: VerifiedEvent) -> Fact | None:
        kind = EVENT_OBJECTS.get(event.type)
        if kind is None:
            return None
        object_id = _event_object_id(event.payload)
        if object_id is None:
            raise MalformedEvent(f"A {event.type} event without data.object.id")
        fetch: dict[str, Callable[[str], Fact]] = {
            "checkout.session": self.checkout_session_get,
            "charge": self.payment_get,
            "dispute": self.dispute_get,
            "invoice": self.invoice_get,
            "subscription": self.subscription_get,
            "payout": self.payout_get,
            "refund": self.refund_charge_get,
        }
        return fetch[kind](object_id)

    def payout_get(self, payout_id: str) -> PayoutFact:
        return p.payout_fact(self._retrieve("payout", payout_id))

    def payouts_since(self, since: datetime) -> Iterator[PayoutFact]:
        for payout in self._list(
            RESOURCE_PATHS["payout"], {"created": {"gte": int(since.timestamp())}}
        ):
            yield p.payout_fact(payout)

    def payout_lines(self, payout_id: str) -> Iterator[BalanceFact]:
        params = {"payout": payout_id, "expand": ["data.source"]}
        for bt in self._list(RESOURCE_PATHS["balance_transaction"], params):
            if bt.get("type") == "payout":
                continue  # the payout's own withdrawal, not a line of it
            yield p.balance_fact(bt)

    def refund_create(
        self, *, charge_id: str, amount: Money, idempotency_key: str, metadata: dict[str, str]
    ) -> RefundFact:
        params = {
            "charge": charge_id,
            "amount": to_minor(amount),
            "metadata": metadata,
            "expand": ["balance_transaction"],
        }
        return p.refund_fact(self._create("refund", params, idempotency_key))

    def subscription_cancel(
        self, *, subscription_id: str, idempotency_key: str
    ) -> SubscriptionFact:
        url = f"{RESOURCE_PATHS['subscription']}/{quote(subscription_id, safe='')}"
        return p.subscription_fact(self._request("delete", url, {}, idempotency_key))

    def events_failed_delivery(self) -> Iterator[EventRef]:
        for event in self._list(RESOURCE_PATHS["event"], {"delivery_success": "false"}):
            yield p.event_ref(event)

    def webhook_verify(self, payload: bytes, header: str | None) -> VerifiedEvent:
        """Verify the Stripe-Signature header (300 s tolerance either side of now) and
        parse the event; MalformedEvent for a signed body we could not store or process."""
        try:
            stripe.WebhookSignature.verify_header(
                payload, header, settings.STRIPE_WEBHOOK_SECRET, WEBHOOK_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError as exc:
            raise SignatureError(str(exc).split(".")[0]) from exc
        except UnicodeDecodeError as exc:  # stripe-python decodes the body before anything
            raise SignatureError("Body is not UTF-8") from exc
        # stripe-python refuses only timestamps too old; one from the future is as suspect
        # (a replay window that opens later, or a clock that is wrong).
        if _header_timestamp(header) > time.time() + WEBHOOK_TOLERANCE_SECONDS:
            raise SignatureError("Timestamp outside the tolerance zone (in the future)")
        try:
            event = json.loads(payload)
        except ValueError as exc:
            raise MalformedEvent("Body is not JSON") from exc
        problem = _event_problem(event)
        if problem:
            raise MalformedEvent(problem)
        return VerifiedEvent(
            id=event["id"],
            type=event["type"],
            api_version=str(event.get("api_version") or ""),
            livemode=bool(event.get("livemode")),
            payload=event,
        )


# The inbox's columns (WebhookEvent): longer values cannot be stored.
EVENT_ID_MAX, EVENT_TYPE_MAX, API_VERSION_MAX = 255, 100, 40
_CONTROL = frozenset(chr(c) for c in range(32)) | {chr(127)}


def _header_timestamp(header: str | None) -> int:
    for item in (header or "").split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    return 0


def _event_object_id(payload: Json) -> str | None:
    data = payload.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    object_id = obj.get("id") if isinstance(obj, dict) else None
    return object_id if isinstance(object_id, str) and object_id else None


def _has_nul(value: Any) -> bool:
    """PostgreSQL's jsonb cannot hold U+0000 anywhere, key or value."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _event_problem(event: Any) -> str | None:
    """Why a signed body cannot be stored and processed as an event, or None."""
    if not isinstance(event, dict):
        return "Body is not a Stripe event"
    event_id, event_type = event.get("id"), event.get("type")
    api_version = event.get("api_version")
    if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str):
        return "Body is not a Stripe event (no id or type)"
    if not event_type:
        return "Body is not a Stripe event (no id or type)"
    if len(event_id) > EVENT_ID_MAX or _CONTROL & set(event_id):
        return f"Event id is longer than {EVENT_ID_MAX} characters or has control characters"
    if len(event_type) > EVENT_TYPE_MAX or _CONTROL & set(event_type):
        return f"Event type is longer than {EVENT_TYPE_MAX} characters or has control characters"
    if api_version is not None and (
        not isinstance(api_version, str) or len(api_version) > API_VERSION_MAX
    ):
        return "Event api_version is not a short string"
    if _has_nul(event):
        return "Event contains a NUL character"
    if event_type in EVENT_OBJECTS and _event_object_id(event) is None:
        return f"A {event_type} event without data.object.id"
    return None
