"""What the fake accepts, as Stripe does for the pinned API version: the resources, what
each field expands to, and the parameters of each endpoint; anything else is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

RECORDINGS = Path(__file__).parent.parent / "recordings"
RESOURCES = {
    "checkout/sessions": "cs",
    "charges": "ch",
    "disputes": "du",
    "invoices": "in",
    "subscriptions": "sub",
    "payment_intents": "pi",
    "balance_transactions": "txn",
    "refunds": "re",
    "payouts": "po",
}


# What Stripe lets each object's fields expand to (the pinned version's API reference), so a
# request real Stripe would refuse is refused here too. "list:x" is a list of x objects.
EXPANDABLE: dict[str, dict[str, str]] = {
    "checkout.session": {
        "payment_intent": "payment_intent",
        "customer": "customer",
        "subscription": "subscription",
        "invoice": "invoice",
        "line_items": "list:item",
        "setup_intent": "setup_intent",
    },
    "payment_intent": {
        "latest_charge": "charge",
        "customer": "customer",
        "payment_method": "payment_method",
    },
    "charge": {
        "balance_transaction": "balance_transaction",
        "refunds": "list:refund",
        "customer": "customer",
        "payment_intent": "payment_intent",
        "failure_balance_transaction": "balance_transaction",
    },
    "refund": {
        "balance_transaction": "balance_transaction",
        "charge": "charge",
        "failure_balance_transaction": "balance_transaction",
        "payment_intent": "payment_intent",
    },
    "invoice": {"payments": "list:invoice_payment", "customer": "customer"},
    "dispute": {"charge": "charge", "payment_intent": "payment_intent"},
    "balance_transaction": {"source": "*"},
    "payout": {
        "balance_transaction": "balance_transaction",
        "failure_balance_transaction": "balance_transaction",
        "destination": "*",
    },
    "subscription": {"customer": "customer", "latest_invoice": "invoice"},
}
MAX_EXPAND_DEPTH = 4
PAGING = {"limit", "starting_after", "ending_before", "expand"}
# Parameters each endpoint takes (a subset of Stripe's; anything else is refused as Stripe
# refuses an unknown parameter).
PARAMS: dict[str, set[str]] = {
    "retrieve": {"expand"},
    "/v1/balance_transactions": PAGING | {"payout", "type", "created", "currency", "source"},
    "/v1/payouts": PAGING | {"created", "status", "arrival_date", "destination"},
    "/v1/events": PAGING | {"delivery_success", "type", "types", "created"},
    "/v1/refunds": {
        "charge",
        "payment_intent",
        "amount",
        "metadata",
        "reason",
        "expand",
        "instructions_email",
        "origin",
        "currency",
        "customer",
        "refund_application_fee",
        "reverse_transfer",
    },
    "/v1/checkout/sessions": {
        "mode",
        "line_items",
        "success_url",
        "cancel_url",
        "return_url",
        "ui_mode",
        "client_reference_id",
        "customer",
        "customer_email",
        "customer_creation",
        "metadata",
        "submit_type",
        "payment_intent_data",
        "subscription_data",
        "locale",
        "expand",
        "expires_at",
        "currency",
        "payment_method_types",
        "billing_address_collection",
        "custom_text",
        "consent_collection",
        "allow_promotion_codes",
        "automatic_tax",
        "custom_fields",
        "discounts",
        "invoice_creation",
        "phone_number_collection",
        "payment_method_collection",
        "saved_payment_method_options",
        "shipping_address_collection",
        "tax_id_collection",
        "redirect_on_completion",
    },
}


def refusal(endpoint: str, root: str, params: dict[str, Any]) -> str | None:
    """Why Stripe would refuse these parameters, or None."""
    unknown = sorted(set(params) - PARAMS.get(endpoint, set()))
    if unknown:
        return f"Received unknown parameter: {unknown[0]}"
    expand = params.get("expand") or []
    for path in expand if isinstance(expand, list) else [expand]:
        parts = path.split(".")
        if len([p for p in parts if p != "data"]) > MAX_EXPAND_DEPTH:
            return f"You cannot expand more than {MAX_EXPAND_DEPTH} levels of a property ({path})"
        kind = root
        for part in parts:
            if kind.startswith("list:") and part == "data":
                kind = kind[5:]
                continue
            target = EXPANDABLE.get(kind, {}).get(part)
            if target is None:
                return f"This property cannot be expanded ({path})."
            kind = target
    return None
