"""Driving gifts through the public lifecycle services, for the matching tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from djmoney.money import Money

from donations.models import Donation, LedgerEntry, MatchAllocation, MatchingPool
from donations.providers.facts import DisputeFact, PaymentFact, RefundFact
from donations.services import lifecycle
from projects.models import Project
from tests.factories import DonationFactory, MatchingPoolFactory


def pool_open(project: Project | None, cap: str, ratio: str = "1", **extra: Any) -> MatchingPool:
    """An open pool (tests/factories.py) of ``cap`` USD covering ``project``."""
    fields: dict[str, Any] = {"cap": Money(Decimal(cap), "USD"), "ratio": Decimal(ratio)}
    fields.update(extra)
    return MatchingPoolFactory.create(projects=[project] if project is not None else None, **fields)


def gift(project: Project, amount: str, **extra: Any) -> Donation:
    """A pending gift of ``amount`` in the project's currency, to drive through the lifecycle."""
    return DonationFactory.create(
        project=project, amount=Money(Decimal(amount), project.currency), **extra
    )


def payment_for(d: Donation, *, refunded: Decimal = Decimal(0)) -> PaymentFact:
    """The provider's view of the donation's charge (same currency, not settled yet), with
    its refunds so far: those already recorded, and one more up to ``refunded`` in all."""
    currency = d.amount.currency
    done = list(
        LedgerEntry.objects.filter(donation=d, kind=LedgerEntry.Kind.REFUND).values_list(
            "reference", "amount"
        )
    )
    refunds = [
        RefundFact(id=ref, charge_id="", amount=Money(-amount, currency), status="succeeded")
        for ref, amount in done
    ]
    more = refunded + sum((amount for _, amount in done), Decimal(0))
    if more > 0:
        refunds.append(
            RefundFact(
                id=f"re_{d.pk.hex[:12]}_{len(done)}",
                charge_id="",
                amount=Money(more, currency),
                status="succeeded",
            )
        )
    return PaymentFact(
        charge_id=f"ch_{d.pk.hex[:20]}",
        payment_intent_id=f"pi_{d.pk.hex[:20]}",
        donation_id=str(d.pk),
        charged=d.total_charge,
        refunded=Money(refunded, currency),
        paid=True,
        refunds=tuple(refunds),
    )


def succeed(d: Donation) -> None:
    lifecycle.donation_charge_sync(donation_id=d.pk, payment=payment_for(d))


def refund(d: Donation, amount: Decimal) -> None:
    lifecycle.donation_charge_sync(donation_id=d.pk, payment=payment_for(d, refunded=amount))


def dispute(d: Donation, status: str) -> None:
    fact = DisputeFact(
        id=f"du_{d.pk.hex[:20]}", charge_id="", status=status, payment=payment_for(d)
    )
    lifecycle.donation_dispute_sync(donation_id=d.pk, dispute=fact)


def live_match(d: Donation) -> Decimal:
    return sum((a.amount for a in MatchAllocation.objects.filter(donation=d)), Decimal(0))


def ledger_sum(pool: MatchingPool) -> Decimal:
    return sum((a.amount for a in MatchAllocation.objects.filter(pool=pool)), Decimal(0))
