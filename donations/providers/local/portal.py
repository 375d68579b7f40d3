"""The local provider's test customer portal: short-lived sessions in which a donor sees
and cancels their monthly gifts."""

from __future__ import annotations

import time
from typing import Any

from donations.models import TestProviderObject
from donations.providers.base import ProviderError
from donations.providers.local.delivery import LocalEventDelivery, webhook_host
from donations.providers.local.store import _localised_reverse, _lookup, _new_id, _put

Json = dict[str, Any]

# Stripe's portal sessions are short-lived too.
PORTAL_SESSION_SECONDS = 3600


class LocalPortal(LocalEventDelivery):
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
