"""The finance desk's tests: gifts paid through the local test provider (the same webhook,
inbox, tasks and lifecycle as Stripe), and logins for each role."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from djmoney.money import Money

from donations.models import Donation, Payout
from donations.providers import provider
from donations.services.giving import GiftRequest, donation_start
from finance.services.desk_refunds import refund_request
from projects.models import Project
from tests.conftest import WEBHOOK_SECRET
from tests.donations.conftest import hooks  # noqa: F401 - signed events through the webhook
from tests.factories import MatchingPoolFactory, StaffFactory


@pytest.fixture(autouse=True)
def _test_provider(settings: Any, tmp_path: Any) -> None:
    settings.PAYMENT_PROVIDER = "test"
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens: Stripe must not be called
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EXPORT_ROOT = str(tmp_path / "exports")


def _login(username: str, group: str | None, *, superuser: bool = False) -> tuple[User, Client]:
    user = StaffFactory.create(
        username=username, password="pw", superuser=superuser, groups=[group] if group else []
    )
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def finance(db: None) -> tuple[User, Client]:
    return _login("fiona", "Finance")


@pytest.fixture
def finance_client(finance: tuple[User, Client]) -> Client:
    return finance[1]


@pytest.fixture
def editor_client(db: None) -> Client:
    return _login("eddie", "Editors")[1]


@pytest.fixture
def pay(django_capture_on_commit_callbacks: Any) -> Callable[..., Donation]:
    """A gift paid through the test checkout; returns it succeeded."""

    def pay(
        project: Project,
        amount: str = "50",
        *,
        currency: str | None = None,
        email: str = "ana@example.org",
        name: str = "Ana Quispe",
        frequency: str = "one_time",
    ) -> Donation:
        gift = GiftRequest(
            project=project,
            amount=Money(Decimal(amount), currency or project.currency),
            frequency=frequency,
            donor_name=name,
            donor_email=email,
        )
        with django_capture_on_commit_callbacks(execute=True):
            donation, _url = donation_start(gift=gift, base_url="http://testserver")
            provider().checkout_complete(  # type: ignore[attr-defined]
                session_id=str(donation.checkout_session_id), outcome="succeed", host="testserver"
            )
        donation.refresh_from_db()
        assert donation.status == Donation.Status.SUCCEEDED, donation.status
        return donation

    return pay


@pytest.fixture
def books(project: Project, pay: Any, django_capture_on_commit_callbacks: Any) -> dict[str, Any]:
    """A USD project with a 2X pool: a USD gift (matched), a EUR gift (settled at the test
    provider's rate, matched), a partial refund, then a payout of everything."""
    now = timezone.now()
    MatchingPoolFactory.create(
        projects=[project], cap=Money(Decimal(60), "USD"), ends_at=now + timedelta(days=1)
    )
    usd = pay(project, "50", email="ana@example.org")
    eur = pay(project, "40", currency="EUR", email="bo@example.org", name="Bo")
    user = StaffFactory.create(username="refunder")
    with django_capture_on_commit_callbacks(execute=True):
        refund_request(
            donation_id=usd.pk,
            amount=Decimal("10"),
            reason="other",
            actor=user,
            idempotency_key=uuid.uuid4(),
        )
    with django_capture_on_commit_callbacks(execute=True):
        payout = provider().payout_available(host="testserver")  # type: ignore[attr-defined]
    assert payout is not None
    return {"usd": usd, "eur": eur, "payout": Payout.objects.get(stripe_id=payout["id"])}
