"""Pay out everything available on the test payment provider (demo and development)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from donations.models import Payout
from donations.providers import provider
from donations.providers.local import LocalTestProvider, webhook_host


class Command(BaseCommand):
    help = (
        "Emulate Stripe's automatic payout on the test provider: one payout of everything "
        "not paid out yet, with the same signed payout.* events as Stripe."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        test_provider = provider()
        if not isinstance(test_provider, LocalTestProvider):
            raise CommandError(
                "test_provider_payout needs the test payment provider (PAYMENT_PROVIDER=test, "
                "no STRIPE_SECRET_KEY); real payouts come from Stripe."
            )
        paid = test_provider.payout_available(host=webhook_host())
        if paid is None:
            self.stdout.write("Nothing to pay out: every balance transaction is on a payout.")
            return
        payout = Payout.objects.filter(stripe_id=paid["id"]).first()
        if payout is None:
            raise CommandError(f"Payout {paid['id']} was made but its events were not recorded")
        self.stdout.write(
            self.style.SUCCESS(
                f"Payout {payout.stripe_id}: {payout.amount}, {payout.line_count} line(s) "
                f"summing to {payout.lines_total} ({payout.get_lines_status_display()})."
            )
        )
        if payout.lines_status != Payout.Lines.RECONCILED:
            raise CommandError(f"Payout {payout.stripe_id} is {payout.lines_status}")
