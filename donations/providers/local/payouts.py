"""The local provider's payouts: everything available paid out at once, itemised and
reconciled, as Stripe's automatic payout would."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings

from donations.models import TestProviderObject
from donations.providers.local.delivery import LocalEventDelivery
from donations.providers.local.store import _new_id, _put

Json = dict[str, Any]


class LocalPayouts(LocalEventDelivery):
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
