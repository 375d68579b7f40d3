"""The one module that talks to Stripe (or, without keys, to the local test provider).

Everything it returns is a plain ``dict`` in Stripe's JSON shape, so the rest of the code
never imports ``stripe``.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar
from urllib.parse import quote

import stripe
from django.conf import settings

logger = logging.getLogger(__name__)

# Pinned: payload shapes (e.g. invoice.parent.subscription_details) depend on it.
API_VERSION = "2026-10-28.endive"
WEBHOOK_TOLERANCE_SECONDS = 300
RATE_LIMIT_RETRIES = 3

T = TypeVar("T")


class GatewayError(Exception):
    """Stripe could not be reached or refused the request."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class SignatureError(Exception):
    """A webhook whose signature or timestamp does not verify."""


def using_test_provider() -> bool:
    return bool(settings.PAYMENT_PROVIDER == "test")


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


def client() -> stripe.StripeClient:
    return _client(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        settings.STRIPE_MAX_NETWORK_RETRIES,
        settings.STRIPE_TIMEOUT_SECONDS,
    )


def _call(fn: Callable[[], T]) -> T:
    """Run one API call. stripe-python itself retries connection errors, 409 and 5xx with
    backoff; a 429 it retries only when Stripe says so, so we back off on it here too."""
    for attempt in range(RATE_LIMIT_RETRIES + 1):
        try:
            return fn()
        except stripe.RateLimitError as exc:
            if attempt == RATE_LIMIT_RETRIES:
                raise GatewayError(f"Stripe rate limit: {exc}", retryable=True) from exc
            time.sleep(min(0.5 * 2**attempt, 4) * (0.5 + random.random()))  # noqa: S311
        except (stripe.APIConnectionError, stripe.APIError) as exc:
            raise GatewayError(f"Stripe unavailable: {exc}", retryable=True) from exc
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe refused the request: {exc}", retryable=False) from exc
    raise AssertionError("unreachable")


def _as_dict(obj: Any) -> dict[str, Any]:
    return json.loads(str(obj)) if not isinstance(obj, dict) else obj


def checkout_session_create(*, params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
    if using_test_provider():
        from donations.services import test_provider

        return test_provider.checkout_session_create(params=params)
    session = _call(
        lambda: client().v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key},
        )
    )
    return _as_dict(session)


_RESOURCE_PATHS: dict[str, str] = {
    "checkout.session": "/v1/checkout/sessions",
    "charge": "/v1/charges",
    "dispute": "/v1/disputes",
    "invoice": "/v1/invoices",
    "subscription": "/v1/subscriptions",
    "payment_intent": "/v1/payment_intents",
    "balance_transaction": "/v1/balance_transactions",
}


def object_retrieve(
    kind: str, object_id: str, *, expand: list[str] | None = None
) -> dict[str, Any]:
    """The authoritative current version of a Stripe object (webhook payloads can be stale).

    Goes through the client's raw request (same authentication, API version, retries and
    error mapping) and returns Stripe's JSON as is: building typed objects only to turn them
    back into dicts cost more than the rest of processing an event.
    """
    if using_test_provider():
        from donations.services import test_provider

        return test_provider.object_retrieve(object_id, expand=expand or [])
    url = f"{_RESOURCE_PATHS[kind]}/{quote(object_id, safe='')}"
    params: dict[str, Any] = {"expand": expand} if expand else {}
    response = _call(lambda: client().raw_request("get", url, **params))
    data = response.data
    if not isinstance(data, dict):
        raise GatewayError(f"Stripe answered {url} with no object", retryable=True)
    return data


def events_failed_delivery(*, limit: int = 100) -> list[dict[str, Any]]:
    """Events Stripe could not deliver to any endpoint (for the failed-delivery report)."""
    if using_test_provider():
        return []
    page = _call(
        lambda: client().v1.events.list(params={"delivery_success": False, "limit": limit})
    )
    return [_as_dict(e) for e in page.data]


def webhook_verify(payload: bytes, header: str | None) -> dict[str, Any]:
    """Verify the Stripe-Signature header (300 s tolerance) and parse the event."""
    try:
        stripe.WebhookSignature.verify_header(
            payload, header, settings.STRIPE_WEBHOOK_SECRET, WEBHOOK_TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as exc:
        raise SignatureError(str(exc).split(".")[0]) from exc
    except UnicodeDecodeError as exc:  # stripe-python decodes the body before anything else
        raise SignatureError("Body is not UTF-8") from exc
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise SignatureError("Body is not JSON") from exc
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise SignatureError("Body is not a Stripe event")
    return event


def webhook_sign(payload: str, *, secret: str | None = None, timestamp: int | None = None) -> str:
    """A Stripe-Signature header for a body: the test provider signs its events with it."""
    return str(
        stripe.WebhookSignature.generate_signature_header(
            payload, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp=timestamp
        )
    )
