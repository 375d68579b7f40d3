"""Updates made as editors make them, donors as gifts make them, sign-in as My gifts does."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.test import Client, TestCase
from djmoney.money import Money

from donations.models import Donation
from donations.services.signin import sign_in_link_create
from projects.models import Project
from stewardship.models import Update
from stewardship.services.publishing import Published, update_publish
from stewardship.tasks import fan_out_start
from tests.factories import DonationFactory


def donor(project: Project, email: str, amount: str = "50", **fields: Any) -> Donation:
    fields.setdefault("status", Donation.Status.SUCCEEDED)
    return DonationFactory.create(
        project=project,
        donor_email=email,
        amount=Money(Decimal(amount), project.currency),
        counted=Decimal(amount) if fields["status"] != Donation.Status.REFUNDED else Decimal(0),
        **fields,
    )


def update_make(project: Project, slug: str = "frog", **fields: Any) -> Update:
    defaults: dict[str, Any] = {
        "title_en": "The survey found the frog",
        "title_es": "El censo encontró la rana",
        "body_en": "<p>Rangers found the frog.</p><script>alert(1)</script>",
        "body_es": "<p>Los guardaparques encontraron la rana.</p>",
    }
    defaults.update(fields)
    return Update.objects.create(project=project, slug=slug, **defaults)


def publish(update: Update) -> Published:
    """As the admin's publish button does; the fan-out starts after commit (run here: the
    test's transaction never commits) on the in-process task queue."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return update_publish(update_id=update.pk, fan_out=fan_out_start)


def sign_in(client: Client, email: str) -> None:
    """Through the emailed link, as a donor does: open it, then press its Sign in button."""
    path = urlsplit(sign_in_link_create(email=email, language="en")).path
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 303


def donors_only(project: Project, until: date, slug: str = "secret") -> Update:
    return update_make(project, slug=slug, visibility=Update.Visibility.DONORS, public_from=until)
