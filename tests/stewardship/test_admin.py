"""The editors' publish page: recipient count, test send, second confirmation, deliveries
by status, addresses only for those who may see donor contact details."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from projects.models import Project
from stewardship.models import Delivery, Update
from tests.stewardship.helpers import donor, publish, update_make

pytestmark = pytest.mark.django_db


def _publish_url(update: Update) -> str:
    return f"/admin/stewardship/update/{update.pk}/publish/"


def test_the_publish_page_counts_recipients_and_spanish_ones(
    admin_client_editor: Client, project: Project
) -> None:
    donor(project, "a@example.org", language="es")
    donor(project, "b@example.org")
    donor(project, "c@example.org")
    update = update_make(project)
    html = admin_client_editor.get(_publish_url(update)).content.decode()
    assert "Publishing emails <strong>3</strong> donors (1 of them in Spanish)" in html
    for language in ("en", "es"):
        preview = admin_client_editor.get(
            f"/admin/stewardship/update/{update.pk}/preview/{language}/"
        )
        assert preview.status_code == 200
    assert "El censo" in preview.content.decode()
    assert mail.outbox == []  # a preview sends nothing


def test_send_a_test_to_me_sends_exactly_one_email(
    admin_client_editor: Client, project: Project
) -> None:
    for n in range(5):
        donor(project, f"d{n}@example.org")
    update = update_make(project)
    response = admin_client_editor.post(_publish_url(update), {"test": "1"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    (message,) = mail.outbox
    assert message.to == ["writer@example.org"]
    assert message.subject.startswith("[Test]")
    update.refresh_from_db()
    assert update.status == Update.Status.DRAFT
    assert not Delivery.objects.exists()


def test_above_the_threshold_publishing_asks_twice(
    admin_client_editor: Client, project: Project, settings: Any
) -> None:
    settings.UPDATE_EMAILS = replace(settings.UPDATE_EMAILS, confirm_above=2)
    for n in range(3):
        donor(project, f"d{n}@example.org")
    update = update_make(project)
    assert (
        'data-testid="second-confirmation"'
        in admin_client_editor.get(_publish_url(update)).content.decode()
    )

    admin_client_editor.post(_publish_url(update), {"publish": "1", "confirm_count": "3"})
    update.refresh_from_db()
    assert update.status == Update.Status.DRAFT
    assert mail.outbox == []

    # A count that changed since the page was shown is not the one confirmed.
    admin_client_editor.post(
        _publish_url(update), {"publish": "1", "confirm_count": "2", "confirmed": "on"}
    )
    update.refresh_from_db()
    assert update.status == Update.Status.DRAFT

    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        admin_client_editor.post(
            _publish_url(update), {"publish": "1", "confirm_count": "3", "confirmed": "on"}
        )
    update.refresh_from_db()
    assert update.status == Update.Status.PUBLISHED
    assert update.author is None or update.last_editor is not None
    assert len(mail.outbox) == 3


def test_editors_see_counts_not_addresses_finance_sees_addresses(
    admin_client_editor: Client, admin_client_finance: Client, project: Project
) -> None:
    donor(project, "hidden@example.org")
    update = update_make(project)
    publish(update)
    editor_page = admin_client_editor.get(_publish_url(update)).content.decode()
    assert "1 sent" in editor_page
    assert "hidden@example.org" not in editor_page
    assert (
        "hidden@example.org"
        not in admin_client_editor.get("/admin/stewardship/delivery/").content.decode()
    )
    assert "1 queued" not in editor_page
    finance_list = admin_client_finance.get("/admin/stewardship/delivery/")
    assert finance_list.status_code == 200
    assert "hidden@example.org" in finance_list.content.decode()


def test_editors_write_updates_through_the_admin(
    admin_client_editor: Client, project: Project
) -> None:
    form = admin_client_editor.get("/admin/stewardship/update/add/")
    assert form.status_code == 200
    response = admin_client_editor.post(
        "/admin/stewardship/update/add/",
        {
            "project": project.pk,
            "title_en": "Patrols began",
            "title_es": "Empezaron las patrullas",
            "slug": "patrols",
            "body_en": "<p>Rangers <em>began</em>.</p><img src=x onerror=alert(1)>",
            "body_es": "",
            "audience": "donors",
            "visibility": "public",
            "status": "draft",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    update = Update.objects.get(slug="patrols")
    assert update.body == "<p>Rangers <em>began</em>.</p>"  # English, the active language
    assert update.author is not None and update.author.username == "writer"
    refused = admin_client_editor.post(
        "/admin/stewardship/update/add/",
        {
            "project": project.pk,
            "title_en": "Feed",
            "slug": "feed",
            "body_en": "<p>x</p>",
            "audience": "donors",
            "visibility": "donors",
            "status": "published",
        },
    )
    html = refused.content.decode()
    assert refused.status_code == 200
    assert "taken by the feed" in html
    assert "needs the date it turns public" in html
    assert "Preview and publish" in html
