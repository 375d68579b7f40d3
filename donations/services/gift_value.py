"""What a gift is worth to its project, in the project's currency."""

from __future__ import annotations

from decimal import Decimal

from donations.models import Donation


def gift_value(d: Donation) -> tuple[Decimal, bool]:
    """The gift part of the money (not a fee the donor covered), in the project's currency,
    before refunds, unrounded; and whether it is not yet known (True: the gift was in
    another currency and Stripe has not reported the settled amount)."""
    project_currency = d.project.currency
    charged = d.charged if d.charged is not None else d.total_charge
    if charged.amount <= 0:
        return Decimal(0), False
    gift_part = max(charged.amount - d.fee_covered.amount, Decimal(0))
    if d.settled is not None and str(d.settled.currency) == project_currency:
        # Stripe's balance transaction: the real exchange rate, no guess.
        return d.settled.amount * gift_part / charged.amount, False
    if str(charged.currency) == project_currency:
        return gift_part, False
    return Decimal(0), True


def kept_share(d: Donation) -> Decimal:
    """The part of the charged money the charity keeps after refunds (1 = all of it)."""
    charged = d.charged if d.charged is not None else d.total_charge
    if charged.amount <= 0:
        return Decimal(0)
    return max(Decimal(charged.amount - d.refunded.amount) / Decimal(charged.amount), Decimal(0))
