"""Project updates' settings (stewardship/), from environment variables; settings.py keeps
them as one typed setting, ``UPDATE_EMAILS = update_settings.settings(env)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class UpdateEmails:
    # Update emails sent per second by one update's fan-out (the mail relay's allowance):
    # UPDATE_EMAIL_RATE.
    rate: float = 20.0
    # Emails per fan-out task (UPDATE_EMAIL_CHUNK): each chunk is one task on the email
    # queue, then the next.
    chunk: int = 200
    # Publishing to more donors than this asks for a second confirmation
    # (UPDATE_CONFIRM_ABOVE).
    confirm_above: int = 500
    # A fan-out whose last chunk is older than this many seconds is resumed by the beat job
    # (UPDATE_SEND_STALL_SECONDS).
    stall_seconds: int = 300


def settings(env: Any) -> UpdateEmails:
    d = UpdateEmails()
    values = UpdateEmails(
        rate=env.float("UPDATE_EMAIL_RATE", default=d.rate),
        chunk=env.int("UPDATE_EMAIL_CHUNK", default=d.chunk),
        confirm_above=env.int("UPDATE_CONFIRM_ABOVE", default=d.confirm_above),
        stall_seconds=env.int("UPDATE_SEND_STALL_SECONDS", default=d.stall_seconds),
    )
    if values.rate <= 0 or values.chunk < 1:
        raise ImproperlyConfigured("UPDATE_EMAIL_RATE and UPDATE_EMAIL_CHUNK must be positive")
    return values
