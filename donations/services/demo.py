"""Demo gifts through the test provider: the same webhook, inbox, tasks and totals path."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from djmoney.money import Money

from donations.models import MatchingPool
from donations.providers import provider
from donations.providers.local import LocalTestProvider, webhook_host
from donations.services.giving import GiftRequest, donation_start
from projects.models import Project
from projects.selectors import project_funding

DEMO_DONORS = [
    ("Andes Fund", "andes-fund@example.org", "For the frogs of Kosñipata."),
    ("María Quispe", "maria@example.org", "¡Por el Gato Andino!"),
    ("Anonymous friend", "friend@example.org", ""),
    (
        "The Okafor family",
        "okafor@example.org",
        "In memory of Grandpa, who loved the cloud forest.",
    ),
]
# Demo donors who give from the Spanish pages (their receipts and updates are in Spanish).
DEMO_SPANISH = {"maria@example.org"}
MAX_GIFT = Decimal("100000")
_DEMO_MAX_GIFTS = 50  # a project funds in a handful; more means the webhook path is stuck


def demo_funding_complete(*, project: Project) -> int:
    """Give through the test checkout until raised equals cost. Returns gifts made."""
    test_provider = provider()
    if not isinstance(test_provider, LocalTestProvider):
        raise RuntimeError(  # noqa: TRY004 - a settings problem, not a caller's wrong type
            "Demo gifts need the test payment provider (no STRIPE_SECRET_KEY)"
        )
    host = webhook_host()
    made = 0
    while True:
        project.refresh_from_db()
        remaining = project_funding(project).remaining.amount
        if remaining <= 0:
            return made
        name, email, message = DEMO_DONORS[made % len(DEMO_DONORS)]
        gift = GiftRequest(
            project=project,
            amount=Money(min(remaining, MAX_GIFT), project.currency),
            frequency="one_time",
            donor_name=name,
            donor_email=email,
            anonymous=name.startswith("Anonymous"),
            message=message,
            language="es" if email in DEMO_SPANISH else "en",
        )
        donation, _url = donation_start(gift=gift, base_url=f"http://{host}")
        test_provider.checkout_complete(
            session_id=str(donation.checkout_session_id), outcome="succeed", host=host
        )
        made += 1
        if made > _DEMO_MAX_GIFTS:
            raise RuntimeError("Demo funding did not converge; check the webhook path")


def demo_pool_open(*, project: Project) -> MatchingPool:
    """The seed page's "2X The Impact": an open 1:1 pool for the project (idempotent)."""
    now = timezone.now()
    pool, created = MatchingPool.objects.get_or_create(
        sponsor_name="Andes Amazon Fund (demo sponsor)",
        defaults={
            "cap": Money(Decimal("50000"), project.currency),
            "ratio": Decimal(1),
            "starts_at": now - timedelta(days=1),
            "ends_at": now + timedelta(days=90),
        },
    )
    if not created and pool.ends_at <= now:
        pool.ends_at = now + timedelta(days=90)
        pool.save(update_fields=["ends_at"])
    pool.projects.add(project)
    return pool


def demo_payout() -> str | None:
    """The test provider's automatic payout (beat, in the demo): everything available is
    paid out with Stripe's events. Returns the payout's id, or None if nothing was due."""
    test_provider = provider()
    if not isinstance(test_provider, LocalTestProvider):
        return None
    payout = test_provider.payout_available(host=webhook_host())
    return str(payout["id"]) if payout else None
