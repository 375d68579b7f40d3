"""The local test provider itself: the Stripe adapter with its transport replaced by the
local object store, and the checkout, portal, payouts and event delivery of this package."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from donations.models import TestProviderObject
from donations.providers.base import ProviderError
from donations.providers.local.checkout import LocalCheckout
from donations.providers.local.payouts import LocalPayouts
from donations.providers.local.portal import LocalPortal
from donations.providers.local.store import _lookup
from donations.providers.stripe_objects import expanded, list_page

Json = dict[str, Any]


class LocalTestProvider(LocalCheckout, LocalPortal, LocalPayouts):
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
