"""collectstatic, then the outage page nginx serves from STATIC_ROOT (campaign/error_pages.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.staticfiles.management.commands import collectstatic

from campaign.error_pages import write_unavailable_page


class Command(collectstatic.Command):
    def handle(self, **options: Any) -> str | None:
        result = super().handle(**options)
        if not options["dry_run"]:
            path = write_unavailable_page(settings.STATIC_ROOT)
            if options["verbosity"] >= 1:
                self.stdout.write(f"Wrote the outage page {path}")
        return result
