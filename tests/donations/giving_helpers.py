"""Helpers of the tests that start gifts through the donate form."""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from typing import Any

from donations.models import Donation, TransitionLog
from projects.models import Project
from tests.conftest import caches_clear

SESSIONS = "/v1/checkout/sessions"


def gift_data(**overrides: str) -> dict[str, str]:
    data = {
        "preset": "50",
        "custom_amount": "",
        "currency": "USD",
        "frequency": "one_time",
        "donor_name": "Ana Quispe",
        "donor_email": "ana@example.org",
    }
    data.update(overrides)
    return data


def donate_url(project: Project) -> str:
    return f"/projects/{project.slug}/donate/"


def session_requests(fake_stripe: Any) -> list[dict[str, Any]]:
    return [r for r in fake_stripe.requests if r["method"] == "POST" and r["path"] == SESSIONS]


def page_text(response: Any) -> str:
    return html.unescape(response.content.decode())


def assert_refused(response: Any, fake_stripe: Any, *, status: int, message: str) -> None:
    """Nothing was started: no row, no request to Stripe, no redirect, the reason is shown."""
    assert response.status_code == status, response.content[:3000]
    assert "Location" not in response
    assert Donation.objects.count() == 0
    assert session_requests(fake_stripe) == []
    assert message in page_text(response)


def in_one_window(scenario: Callable[[int], None], fake_stripe: Any) -> None:
    """Run a rate-limit scenario inside one fixed window: if the clock crossed a window
    boundary while it ran (so the counts split), reset and run it again."""
    for attempt in range(3):
        bucket = int(time.time() // 3600)
        try:
            scenario(attempt)
        except AssertionError:
            if int(time.time() // 3600) == bucket:
                raise
        else:
            return
        caches_clear()
        TransitionLog.objects.all().delete()
        Donation.objects.all().delete()
        fake_stripe.reset()
    raise AssertionError("could not run the scenario inside one rate-limit window")
