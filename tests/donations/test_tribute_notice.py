"""'Let someone know': the person the donor named hears about the dedication once, without
the amount; anonymous donors stay anonymous."""

from __future__ import annotations

from typing import Any

from django.core import mail
from django.test import Client

from donations.models import Donation
from tests.donations.event_helpers import post_event


def _give(client: Client, project: Any, **extra: str) -> Donation:
    data = {
        "preset": "50",
        "currency": "USD",
        "frequency": "one_time",
        "donor_name": "Ana Quispe",
        "donor_email": "ana@example.org",
        "tribute_type": "memory",
        "tribute_name": "Rosa Huamán",
        "tribute_notify_email": "family@example.org",
        **extra,
    }
    response = client.post(f"/projects/{project.slug}/donate/", data)
    assert response.status_code == 303, response.content[:500]
    return Donation.objects.get(donor_email="ana@example.org")


def _succeed(client: Client, fake_stripe: Any, donation: Donation, capture: Any) -> None:
    session = fake_stripe.pay(donation.checkout_session_id)
    for _ in range(2):  # Stripe delivers twice: still one notice
        with capture(execute=True):
            post_event(client, "checkout.session.completed", session, event_id="evt_tribute_1")


def test_the_named_person_is_told_once_without_the_amount(
    client: Client, project: Any, fake_stripe: Any, django_capture_on_commit_callbacks: Any
) -> None:
    donation = _give(client, project)
    assert mail.outbox == []  # nothing before the money is confirmed
    _succeed(client, fake_stripe, donation, django_capture_on_commit_callbacks)
    notices = [m for m in mail.outbox if m.to == ["family@example.org"]]
    assert len(notices) == 1
    notice = notices[0]
    assert "in memory of Rosa Huamán" in notice.subject
    assert "Ana Quispe" in notice.body and project.title in notice.body
    assert "$50" not in notice.body and "50.00" not in notice.body
    html = notice.alternatives[0][0]  # type: ignore[attr-defined]
    assert "Rosa Huamán" in str(html) and "$50" not in str(html)
    assert [m.to for m in mail.outbox].count(["ana@example.org"]) == 1  # the receipt
    donation.refresh_from_db()
    assert donation.tribute_notified_at is not None


def test_an_anonymous_donor_is_not_named(
    client: Client, project: Any, fake_stripe: Any, django_capture_on_commit_callbacks: Any
) -> None:
    donation = _give(client, project, anonymous="on")
    _succeed(client, fake_stripe, donation, django_capture_on_commit_callbacks)
    (notice,) = [m for m in mail.outbox if m.to == ["family@example.org"]]
    assert "Ana" not in notice.body and "Someone has made a gift" in notice.body


def test_no_notice_without_an_address_or_for_a_failed_gift(
    client: Client, project: Any, fake_stripe: Any
) -> None:
    from donations import tasks

    donation = _give(client, project)  # pending: never notified
    Donation.objects.filter(pk=donation.pk).update(status=Donation.Status.FAILED)
    assert tasks.tribute_notice_send(str(donation.pk)) is False
    assert mail.outbox == []
