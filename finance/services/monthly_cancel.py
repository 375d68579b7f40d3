"""Finance cancels a donor's monthly gift: through the provider interface (Stripe's
DELETE /v1/subscriptions/{id}, or the test provider in the demo). The plan's status is then
recorded from Stripe's ``customer.subscription.deleted`` event like any other change."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from donations.models import Donation
from donations.providers import ProviderError, provider
from finance.models import FinanceAction
from finance.services.action_log import Actor, action_record

ENDED = {"canceled", "incomplete_expired"}


class PlanRefused(Exception):
    """The plan cannot be cancelled; the message says why."""


def monthly_cancel(*, donation_id: Any, actor: Actor, reason: str = "") -> str:
    """Cancel the plan whose first gift this is. Returns the plan's status at Stripe."""
    with transaction.atomic():
        d = Donation.objects.select_for_update().filter(pk=donation_id).first()
        if d is None:
            raise PlanRefused("No such gift")
        if d.parent_id is not None:
            d = Donation.objects.select_for_update().get(pk=d.parent_id)
        if d.frequency != Donation.Frequency.MONTHLY or not d.subscription_id:
            raise PlanRefused("This is not a monthly gift")
        if d.subscription_status in ENDED:
            raise PlanRefused("This monthly gift is already cancelled")
        subscription_id = d.subscription_id
        plan_id = d.pk
    try:
        fact = provider().subscription_cancel(
            subscription_id=subscription_id, idempotency_key=f"cancel-{subscription_id}"
        )
    except ProviderError as exc:
        raise PlanRefused(f"Stripe did not cancel it: {exc}") from exc
    action_record(
        FinanceAction.Kind.CANCEL_MONTHLY,
        actor,
        f"Monthly gift {plan_id} cancelled",
        target=f"donation:{plan_id}",
        detail={"subscription": subscription_id, "status": fact.status, "reason": reason},
    )
    return fact.status
