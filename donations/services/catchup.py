"""Catching up with the payment provider when webhooks were lost (Celery beat): stale
pending gifts re-checked, events the provider could not deliver reported."""

from __future__ import annotations

import logging
from uuid import UUID

from django.conf import settings
from django.core.cache import caches
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from donations.models import Donation, WebhookEvent
from donations.providers import ProviderError, provider
from donations.services import lifecycle
from donations.services.per_item_errors import item_isolated

logger = logging.getLogger(__name__)


def pending_recheck(*, limit: int = 200) -> dict[str, int]:
    """Donations pending for longer than DONATION_PENDING_RECHECK_AFTER: ask Stripe about
    their Checkout Session and expire or confirm them. Webhooks can be lost."""
    cutoff = timezone.now() - settings.DONATION_PENDING_RECHECK_AFTER
    stale = (
        Donation.objects.filter(status=Donation.Status.PENDING, created_at__lte=cutoff)
        .order_by("created_at")  # oldest first: a backlog of open sessions cannot starve them
        .values_list("pk", "checkout_session_id")[:limit]
    )
    seen = 0
    changed = 0
    for donation_id, session_id in stale:
        seen += 1
        with item_isolated("Recheck of pending gift", donation_id):
            changed += session_recheck(donation_id, session_id, event_id="recheck")
    return {"checked": seen, "changed": changed}


def session_recheck(donation_id: UUID, session_id: str | None, *, event_id: str) -> int:
    """Apply a pending gift's Checkout Session as the provider has it now, through the same
    idempotent transition as its webhook; 1 when the gift left pending."""
    if not session_id:
        # The start was interrupted before Stripe had a session: no one can pay it.
        return int(
            bool(
                lifecycle.donation_fail(
                    donation_id=donation_id,
                    reason="no Checkout Session was created (the start was interrupted)",
                    event_id=event_id,
                )
            )
        )
    try:
        session = provider().checkout_session_get(str(session_id))
    except ProviderError as exc:
        logger.warning("Recheck of %s failed: %s", donation_id, exc)
        return 0
    lifecycle.donation_session_sync(donation_id=donation_id, session=session, event_id=event_id)
    return int(
        Donation.objects.filter(pk=donation_id).exclude(status=Donation.Status.PENDING).exists()
    )


def failed_events_report() -> list[str]:
    """Events Stripe failed to deliver to us. Those missing from the inbox are logged
    loudly for finance/engineering; the recheck job reconciles the gifts they concern."""
    missing: list[str] = []
    for event in provider().events_failed_delivery():
        with item_isolated("Failed-delivery check of event", event.id):
            if not WebhookEvent.objects.filter(stripe_id=event.id).exists():
                missing.append(event.id)
                logger.error("Stripe could not deliver event %s (%s)", event.id, event.type)
    failed_here = WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED).count()
    if failed_here:
        logger.error("%s stored webhook events failed processing", failed_here)
    return missing


# A donor's thank-you page asks the provider at most this often per gift (its status poll
# runs every few seconds); the webhook, the sweep and the recheck remain the other paths.
CONFIRM_EVERY_SECONDS = 10


def donation_confirm_now(donation: Donation) -> bool:
    """The donor is on the thank-you page of a pending gift: confirm it at once from its
    Checkout Session (Stripe's advice for the success page) instead of waiting for the
    webhook, which a broker outage can hold up for a minute or more. The transition is the
    webhook's own, so whichever comes second changes nothing. True when the gift moved."""
    if donation.status != Donation.Status.PENDING or not donation.checkout_session_id:
        return False
    try:
        due = caches["counters"].add(f"confirm-now:{donation.pk}", 1, CONFIRM_EVERY_SECONDS)
    except Exception:  # noqa: BLE001 - no shared cache: ask anyway, the donor is waiting
        due = True
    if not due:
        return False
    try:
        return bool(
            session_recheck(donation.pk, donation.checkout_session_id, event_id="thank-you page")
        )
    except (OperationalError, InterfaceError):
        raise  # the database is down: the page says the gift is being confirmed (503)
    except Exception:
        logger.exception("Confirming %s from its Checkout Session failed", donation.pk)
        return False
