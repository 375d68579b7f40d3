"""Driving gifts through the public lifecycle services, for the matching tests."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from djmoney.money import Money

from donations.models import Donation, MatchAllocation, MatchingPool
from donations.money import to_minor
from donations.services import lifecycle
from projects.models import Project


def pool_open(project: Project | None, cap: str, ratio: str = "1", **extra: Any) -> MatchingPool:
    now = timezone.now()
    fields: dict[str, Any] = {
        "sponsor_name": "Sponsor",
        "cap": Money(Decimal(cap), "USD"),
        "ratio": Decimal(ratio),
        "starts_at": now - timedelta(days=1),
        "ends_at": now + timedelta(days=30),
    }
    fields.update(extra)
    pool = MatchingPool.objects.create(**fields)
    if project is not None:
        pool.projects.add(project)
    return pool


def gift(project: Project, amount: str, **extra: Any) -> Donation:
    fields: dict[str, Any] = {
        "project": project,
        "amount": Money(Decimal(amount), project.currency),
        "donor_name": "Donor",
        "donor_email": f"d{Donation.objects.count()}@example.org",
    }
    fields.update(extra)
    return Donation.objects.create(**fields)


def charge_for(d: Donation, *, refunded: Decimal = Decimal(0)) -> dict[str, Any]:
    """A Stripe-shaped charge for the donation (same currency, no balance transaction yet)."""
    currency = str(d.amount.currency).lower()
    return {
        "id": f"ch_{d.pk.hex[:20]}",
        "object": "charge",
        "amount": to_minor(d.total_charge),
        "amount_refunded": to_minor(Money(refunded, d.amount.currency)),
        "currency": currency,
        "paid": True,
        "status": "succeeded",
        "payment_intent": f"pi_{d.pk.hex[:20]}",
        "balance_transaction": None,
        "metadata": {"donation_id": str(d.pk)},
    }


def succeed(d: Donation) -> None:
    lifecycle.donation_charge_sync(donation_id=d.pk, charge=charge_for(d))


def refund(d: Donation, amount: Decimal) -> None:
    lifecycle.donation_charge_sync(donation_id=d.pk, charge=charge_for(d, refunded=amount))


def dispute(d: Donation, status: str) -> None:
    lifecycle.donation_dispute_sync(
        donation_id=d.pk, dispute={"id": f"du_{d.pk.hex[:20]}", "status": status}
    )


def live_match(d: Donation) -> Decimal:
    return sum((a.amount for a in MatchAllocation.objects.filter(donation=d)), Decimal(0))


def ledger_sum(pool: MatchingPool) -> Decimal:
    return sum((a.amount for a in MatchAllocation.objects.filter(pool=pool)), Decimal(0))
