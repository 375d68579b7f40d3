"""Publishing emails each donor address once, in its latest gift's language, with one-click
unsubscribe; an opt-out is honoured by the next update."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client, TestCase
from djmoney.money import Money

from donations.models import Donation
from projects.models import Project
from stewardship.models import Delivery, UpdateConsent
from stewardship.services.fanout import deliveries_send_chunk
from stewardship.tasks import updates_daily
from tests.factories import ProjectFactory
from tests.stewardship.helpers import donor, publish, update_make

pytestmark = pytest.mark.django_db


def _update_emails() -> list[Any]:
    return [m for m in mail.outbox if "List-Unsubscribe" in m.extra_headers]


def _unsubscribe_path(message: Any) -> str:
    header = message.extra_headers["List-Unsubscribe"]
    return urlsplit(header.strip("<>")).path


def test_each_donor_address_gets_one_email_in_its_latest_gift_language(
    project: Project,
) -> None:
    donor(project, "ana@example.org", language="en")
    donor(project, "ana@example.org", language="es")  # her latest gift: Spanish
    donor(project, "anon@example.org", anonymous=True)
    donor(project, "partial@example.org", status=Donation.Status.PARTIALLY_REFUNDED)
    donor(project, "refunded@example.org", status=Donation.Status.REFUNDED)
    donor(project, "pending@example.org", status=Donation.Status.PENDING)
    donor(project, "")  # an offline gift recorded without an address
    donor(ProjectFactory.create(), "other@example.org")

    done = publish(update_make(project))

    assert done.queued == 3
    sent = _update_emails()
    assert sorted(m.to[0] for m in sent) == [
        "ana@example.org",
        "anon@example.org",
        "partial@example.org",
    ]
    ana = next(m for m in sent if m.to[0] == "ana@example.org")
    assert "El censo encontró la rana" in ana.subject
    assert "Tus 2 donaciones, 100\xa0US$, protegen" in ana.body  # the catalogue's Spanish
    assert "Recibes esto porque donaste a este proyecto." in ana.body
    assert "/es/updates/unsubscribe/" in ana.extra_headers["List-Unsubscribe"]
    assert ana.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = ana.alternatives[0][0]
    assert "<script" not in html
    assert _unsubscribe_path(ana) in html  # the visible link too
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}

    # Publishing again (a second click, the daily job) writes and sends nothing.
    again = publish(done.update)
    assert again.already and again.queued == 0
    assert deliveries_send_chunk(update_id=done.update.pk).handled == 0
    assert len(_update_emails()) == 3


def test_the_personal_line_is_the_calculators_acres(make_project: Any) -> None:
    project = make_project(cost=Money(Decimal("1000"), "USD"), acres=Decimal("850"))
    donor(project, "two@example.org", "25")
    donor(project, "two@example.org", "50")
    publish(update_make(project))
    (message,) = _update_emails()
    # $75 at $1.18 an acre (1000 / 850) is 63.6 acres: "about 64".
    assert "Your 2 gifts, $75, protect about 64 acres." in message.body
    assert "Your 2 gifts, $75, protect about 64 acres." in message.alternatives[0][0]


def test_one_click_unsubscribe_skips_that_project_and_not_another(project: Project) -> None:
    other = ProjectFactory.create()
    for p in (project, other):
        donor(p, "leaver@example.org")
        donor(p, "stayer@example.org")
    publish(update_make(project, slug="first"))
    message = next(m for m in _update_emails() if m.to[0] == "leaver@example.org")
    path = _unsubscribe_path(message)

    # What a mail client sends for RFC 8058: a POST without cookies or CSRF token.
    response = Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    choice = UpdateConsent.objects.get()
    assert (choice.email, choice.project_id, choice.subscribed, choice.source) == (
        "leaver@example.org",
        project.pk,
        False,
        "one_click",
    )
    mail.outbox.clear()

    publish(update_make(project, slug="second"))
    assert [m.to[0] for m in _update_emails()] == ["stayer@example.org"]
    skipped = Delivery.objects.get(update__slug="second", email="leaver@example.org")
    assert (skipped.status, skipped.skip_reason) == ("skipped", "opted_out")

    mail.outbox.clear()
    publish(update_make(other, slug="elsewhere"))
    assert sorted(m.to[0] for m in _update_emails()) == [
        "leaver@example.org",
        "stayer@example.org",
    ]


def test_unsubscribing_from_all_updates_on_the_page(project: Project) -> None:
    other = ProjectFactory.create()
    for p in (project, other):
        donor(p, "leaver@example.org")
    publish(update_make(project, slug="first"))
    path = _unsubscribe_path(_update_emails()[0])
    client = Client(enforce_csrf_checks=True)

    page = client.get(path)  # a link scanner, or the donor reading the page
    assert page.status_code == 200
    assert "leaver@example.org" in page.content.decode()
    assert project.get_absolute_url() in page.content.decode()  # a way back
    assert not UpdateConsent.objects.exists()

    done = client.post(path, {"scope": "all"})
    assert done.status_code == 200
    assert "no more project updates" in done.content.decode()
    assert UpdateConsent.objects.get().project_id is None
    mail.outbox.clear()
    publish(update_make(other, slug="elsewhere"))
    assert _update_emails() == []
    assert Delivery.objects.get(update__slug="elsewhere").skip_reason == "opted_out"


def test_a_tampered_unsubscribe_link_is_refused(project: Project) -> None:
    donor(project, "a@example.org")
    publish(update_make(project))
    path = _unsubscribe_path(_update_emails()[0])
    forged = path.replace("/updates/unsubscribe/", "/updates/unsubscribe/x")
    assert Client().post(forged, {"scope": "all"}).status_code == 404
    assert not UpdateConsent.objects.exists()


def test_nobody_audience_emails_nobody(project: Project) -> None:
    donor(project, "a@example.org")
    done = publish(update_make(project, audience="nobody"))
    assert done.queued == 0
    assert _update_emails() == []
    assert not Delivery.objects.exists()


def test_the_daily_task_publishes_scheduled_updates_and_opens_donors_only_ones(
    project: Project,
) -> None:
    from django.utils import timezone

    today = timezone.localdate()
    donor(project, "a@example.org")
    scheduled = update_make(project, slug="later", status="scheduled", publish_on=today)
    secret = update_make(project, slug="secret", visibility="donors", public_from=today)
    publish(secret)
    mail.outbox.clear()

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert updates_daily() == {"published": 1, "made_public": 1}
    scheduled.refresh_from_db()
    secret.refresh_from_db()
    assert scheduled.status == "published"
    assert secret.visibility == "public"
    assert [m.to[0] for m in _update_emails()] == ["a@example.org"]
    assert updates_daily() == {"published": 0, "made_public": 0}
