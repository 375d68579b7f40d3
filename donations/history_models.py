"""Field-level history of the money models (Donation, MatchingPool, Payout).

History is django-pghistory: PostgreSQL triggers write a row for every insert and every
change of a tracked field, so the lifecycle's conditional ``UPDATE``s (which never call
``save()``) are recorded as surely as an admin edit. On SQLite (the demo) the triggers are
not installed and no history is kept. The finance desk shows these rows on the change pages.
"""

from __future__ import annotations

from typing import Any

import pghistory

import donations.models as base_models
from donations.models import Donation, MatchingPool, Payout

DONATION_HISTORY_FIELDS = [
    "status",
    "amount",
    "fee_covered",
    "charged",
    "settled",
    "stripe_fee",
    "net",
    "exchange_rate",
    "refunded",
    "counted",
    "counted_provisional",
    "needs_review",
    "review_reason",
    "donor_name",
    "donor_email",
    "dispute_status",
    "subscription_status",
]
POOL_HISTORY_FIELDS = [
    "sponsor_name",
    "cap",
    "ratio",
    "starts_at",
    "ends_at",
    "covers_all_projects",
    "active",
    "allocated",
]

pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    fields=DONATION_HISTORY_FIELDS,
    model_name="DonationHistory",
    obj_field=pghistory.ObjForeignKey(related_name="history"),
)(Donation)

pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    fields=POOL_HISTORY_FIELDS,
    model_name="MatchingPoolHistory",
    obj_field=pghistory.ObjForeignKey(related_name="history"),
)(MatchingPool)

pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    fields=[
        "amount",
        "status",
        "arrival_date",
        "provider_reconciliation",
        "lines_status",
        "lines_total",
        "difference",
        "failure_code",
    ],
    model_name="PayoutHistory",
    obj_field=pghistory.ObjForeignKey(related_name="history"),
)(Payout)

# pghistory puts the event models it makes in the tracked models' module.
DonationHistory: Any = getattr(base_models, "DonationHistory")  # noqa: B009
MatchingPoolHistory: Any = getattr(base_models, "MatchingPoolHistory")  # noqa: B009
PayoutHistory: Any = getattr(base_models, "PayoutHistory")  # noqa: B009
