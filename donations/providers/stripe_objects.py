"""Stripe's object semantics that the local test provider and the tests' recorded-response
server both emulate: ``expand[]`` along dotted paths, and cursor pagination of lists.
Plain functions over dicts (no ``stripe`` import), so both emulators share one copy."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

Lookup = Callable[[str], dict[str, Any] | None]


# Lists Stripe includes only when asked (``expand[]=refunds``): the emulators keep the ids
# under a private key and render the list on request.
INCLUDABLE = {("charge", "refunds"): "_refunds", ("invoice", "payments"): "_payments"}


def public(obj: Any) -> Any:
    """Without the emulators' private bookkeeping (keys starting with "_"): what Stripe
    itself would send."""
    if isinstance(obj, dict):
        return {k: public(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [public(v) for v in obj]
    return obj


def expanded(obj: dict[str, Any], paths: Sequence[str], lookup: Lookup) -> dict[str, Any]:
    """A copy of obj with the ids along each dotted path replaced by the objects (as Stripe's
    ``expand[]=payment_intent.latest_charge``; ``data`` walks into a list's items), as
    Stripe sends it."""
    obj = copy.deepcopy(obj)
    for path in paths:
        _expand(obj, path.split("."), lookup)
    return public(obj)  # type: ignore[no-any-return]


def _expand(obj: dict[str, Any], parts: list[str], lookup: Lookup) -> None:
    if not parts:
        return
    head, rest = parts[0], parts[1:]
    private = INCLUDABLE.get((str(obj.get("object")), head))
    if private is not None and head not in obj:
        obj[head] = {
            "object": "list",
            "data": [copy.deepcopy(o) for i in obj.get(private) or [] if (o := lookup(i))],
            "has_more": False,
            "url": f"/v1/{head}?{obj.get('object')}={obj.get('id')}",
        }
    value = obj.get(head)
    if head == "data" and isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                _expand(item, rest, lookup)
        return
    if isinstance(value, str):
        found = lookup(value)
        if found is None:
            return
        value = obj[head] = copy.deepcopy(found)
    if isinstance(value, dict):
        _expand(value, rest, lookup)


def list_page(
    items: Sequence[dict[str, Any]], *, url: str, limit: int = 10, starting_after: str | None
) -> dict[str, Any]:
    """One page of a Stripe list: ``limit`` items after the ``starting_after`` id."""
    limit = max(1, min(int(limit), 100))
    start = 0
    if starting_after:
        ids = [item["id"] for item in items]
        if starting_after not in ids:
            raise KeyError(starting_after)
        start = ids.index(starting_after) + 1
    page = list(items[start : start + limit])
    return {"object": "list", "url": url, "data": page, "has_more": start + limit < len(items)}


def refund_movements(
    charge: dict[str, Any],
    bt_of_charge: dict[str, Any] | None,
    amount: int,
    *,
    refund_id: str,
    txn_id: str,
    now: int,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """What Stripe does when a charge is refunded: the refund (succeeded), its own balance
    transaction (the refunded amount out, in the settlement currency at the charge's rate;
    Stripe keeps the original processing fee) and the charge's new refund figures.
    Raises ValueError for an amount Stripe would refuse."""
    remaining = int(charge["amount"]) - int(charge.get("amount_refunded") or 0)
    if amount <= 0 or amount > remaining:
        raise ValueError(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})"
        )
    settled_currency = (bt_of_charge or {}).get("currency") or charge["currency"]
    settled = amount
    if bt_of_charge and int(charge["amount"]):
        settled = round(int(bt_of_charge["amount"]) * amount / int(charge["amount"]))
    bt = {
        "id": txn_id,
        "object": "balance_transaction",
        "amount": -settled,
        "currency": settled_currency,
        "exchange_rate": (bt_of_charge or {}).get("exchange_rate"),
        "fee": 0,
        "fee_details": [],
        "net": -settled,
        "source": refund_id,
        "status": "pending",
        "type": "refund",
        "reporting_category": "refund",
        "created": now,
        "available_on": now,
        "description": "REFUND FOR CHARGE",
    }
    refund = {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": txn_id,
        "charge": charge["id"],
        "created": now,
        "currency": charge["currency"],
        "metadata": {},
        "payment_intent": charge.get("payment_intent"),
        "reason": None,
        "status": "succeeded",
    }
    refunded = int(charge.get("amount_refunded") or 0) + amount
    changes = {
        "amount_refunded": refunded,
        "refunded": refunded >= int(charge["amount"]),
        "_refunds": [refund_id, *(charge.get("_refunds") or [])],  # newest first, as Stripe
    }
    return refund, bt, changes
