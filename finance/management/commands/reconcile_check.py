"""Prove the thermometer: totals against the ledger and gifts, pools against allocations,
payouts against their lines, Stripe gifts no payout has carried, and closed months that
gained a row after they closed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from donations.services.reconcile import reconcile_check


class Command(BaseCommand):
    help = (
        "Check every project's funding totals against the ledger and the gifts, every pool "
        "against its allocations, every payout's lines against its amount, list "
        "succeeded Stripe gifts on no payout and any ledger row written into a closed month "
        "after it closed. Exits 0 when all agree, 1 otherwise."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Rebuild the funding totals from the ledger first (under the totals row lock).",
        )
        parser.add_argument(
            "--unpaid-after-days",
            type=int,
            default=settings.RECONCILE_UNPAID_AFTER_DAYS,
            help="A succeeded Stripe gift older than this on no payout is a discrepancy "
            "(default RECONCILE_UNPAID_AFTER_DAYS, %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["unpaid_after_days"] < 0:
            self.stderr.write("--unpaid-after-days must be 0 or more")
            raise SystemExit(2)
        report = reconcile_check(
            unpaid_after_days=options["unpaid_after_days"], repair=options["repair"]
        )
        for line in report.repaired:
            self.stdout.write(self.style.WARNING(f"repaired: {line}"))
        for line in report.checked:
            self.stdout.write(f"checked: {line}")
        for line in report.discrepancies:
            self.stdout.write(self.style.ERROR(f"DISCREPANCY: {line}"))
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS("All totals, pools and payouts agree; no closed month changed.")
            )
            return
        self.stdout.write(self.style.ERROR(f"{len(report.discrepancies)} discrepancy(ies)."))
        raise SystemExit(1)
