from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.donations.event_helpers import Webhooks


@pytest.fixture
def hooks(
    db: None, client: Client, django_capture_on_commit_callbacks: Any, fake_stripe: Any
) -> Webhooks:
    """Signed events posted to the endpoint, processing run as the endpoint schedules it."""
    return Webhooks(client, django_capture_on_commit_callbacks)
