"""Stripe-shaped objects from the recordings in tests/recordings, their ids, and signed
events (stripe-python's own signer)."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import stripe

from tests.stripe_fake.rules import RECORDINGS


def recording(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{name}.json").read_text())


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(10)}"


def _invalid(message: str, code: str) -> dict[str, Any]:
    return {"error": {"type": "invalid_request_error", "code": code, "message": message}}


def _succeeded_intent(
    pi_id: str, amount: int, currency: str, charge_id: str, metadata: dict[str, Any]
) -> dict[str, Any]:
    pi = recording("payment_intent")
    pi.update(
        id=pi_id,
        amount=amount,
        amount_received=amount,
        currency=currency,
        latest_charge=charge_id,
        metadata=metadata,
    )
    return pi


def signed_event(
    event_type: str,
    obj: dict[str, Any],
    *,
    secret: str,
    event_id: str | None = None,
    timestamp: int | None = None,
) -> tuple[str, str]:
    """A Stripe event body and its Stripe-Signature header (stripe-python's own signer)."""
    event = recording("event")
    event.update(
        id=event_id or new_id("evt"),
        type=event_type,
        created=int(time.time()),
        data={"object": {k: v for k, v in obj.items() if not k.startswith("_")}},
    )
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)
    return body, header
