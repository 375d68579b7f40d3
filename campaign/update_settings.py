"""Project updates' settings (stewardship/), from environment variables; settings.py adds
them with every other setting (``vars().update(update_settings.settings(env))``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured


def settings(env: Any) -> dict[str, Any]:
    values = {
        # Update emails sent per second by one update's fan-out (the mail relay's allowance).
        "UPDATE_EMAIL_RATE": env.float("UPDATE_EMAIL_RATE", default=20.0),
        # Emails per fan-out task: each chunk is one task on the email queue, then the next.
        "UPDATE_EMAIL_CHUNK": env.int("UPDATE_EMAIL_CHUNK", default=200),
        # Publishing to more donors than this asks for a second confirmation.
        "UPDATE_CONFIRM_ABOVE": env.int("UPDATE_CONFIRM_ABOVE", default=500),
        # A fan-out whose last chunk is older than this is resumed by the beat job.
        "UPDATE_SEND_STALL_SECONDS": env.int("UPDATE_SEND_STALL_SECONDS", default=300),
    }
    if values["UPDATE_EMAIL_RATE"] <= 0 or values["UPDATE_EMAIL_CHUNK"] < 1:
        raise ImproperlyConfigured("UPDATE_EMAIL_RATE and UPDATE_EMAIL_CHUNK must be positive")
    return values
