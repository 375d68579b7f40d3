"""The updates' pages, feeds and sitemap; donors-only updates; My gifts' choice."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from projects.models import Project
from stewardship.models import UpdateConsent
from tests.factories import ProjectFactory
from tests.stewardship.helpers import donor, donors_only, publish, sign_in, update_make

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def _entries(body: bytes) -> list[str]:
    feed = ET.fromstring(body)  # noqa: S314 - our own feed
    assert feed.tag == f"{ATOM}feed"
    return [e.findtext(f"{ATOM}title") or "" for e in feed.findall(f"{ATOM}entry")]


def test_list_detail_feed_and_sitemap_in_both_languages(project: Project) -> None:
    update = update_make(project)
    draft = update_make(project, slug="draft", title_en="Not yet")
    publish(update)
    client = Client()
    base = f"/projects/{project.slug}/updates/"

    listing = client.get(base)
    assert listing.status_code == 200
    assert "The survey found the frog" in listing.content.decode()
    assert "Not yet" not in listing.content.decode()
    page = client.get(f"{base}frog/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Rangers found the frog." in html and "<script>alert" not in html
    assert 'property="og:type" content="article"' in html
    assert 'data-testid="update-progress"' in html
    assert "El censo encontró la rana" in client.get(f"/es{base}frog/").content.decode()
    assert client.get(f"{base}{draft.slug}/").status_code == 404

    feed = client.get(f"{base}feed/")
    assert feed.status_code == 200
    assert feed["Content-Type"].startswith("application/atom+xml")
    assert _entries(feed.content) == ["The survey found the frog"]
    assert _entries(client.get("/updates/feed/").content) == ["The survey found the frog"]
    assert f"{base}frog/" in client.get("/sitemap.xml").content.decode()
    # The project page lists its latest updates (its cached copy moves with the update).
    assert f"{base}frog/" in client.get(project.get_absolute_url()).content.decode()


def test_a_donors_only_update_is_404_to_strangers_and_200_to_its_donors(
    project: Project,
) -> None:
    donor(project, "giver@example.org")
    other = ProjectFactory.create()
    donor(other, "elsewhere@example.org")
    update = donors_only(project, timezone.localdate() + timedelta(days=30))
    publish(update)
    url = f"/projects/{project.slug}/updates/{update.slug}/"

    assert Client().get(url).status_code == 404
    stranger = Client()
    sign_in(stranger, "elsewhere@example.org")  # a donor, but of another project
    assert stranger.get(url).status_code == 404
    giver = Client()
    sign_in(giver, "giver@example.org")
    response = giver.get(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "For the project's donors until" in response.content.decode()
    assert update.title in giver.get(f"/projects/{project.slug}/updates/").content.decode()
    # Never in the public feeds until its date.
    assert _entries(Client().get(f"/projects/{project.slug}/updates/feed/").content) == []
    assert url not in Client().get("/sitemap.xml").content.decode()


def test_my_gifts_shows_and_changes_the_choice(project: Project) -> None:
    other = ProjectFactory.create()
    donor(project, "me@example.org")
    donor(other, "me@example.org")
    client = Client()
    sign_in(client, "me@example.org")
    page = client.get("/my-gifts/").content.decode()
    assert page.count('data-testid="updates-project"') == 2
    assert 'data-testid="updates-all" checked' in page

    # Keep all updates but the other project's.
    response = client.post("/my-gifts/updates/", {"all": "on", "project": [str(project.pk)]})
    assert response.status_code == 303
    choice = UpdateConsent.objects.get()
    assert (choice.project_id, choice.subscribed, choice.source) == (other.pk, False, "my_gifts")
    page = client.get("/my-gifts/").content.decode()
    assert page.count('data-testid="updates-project" checked') == 1

    mail.outbox.clear()
    publish(update_make(other, slug="o"))
    publish(update_make(project, slug="p"))
    assert [m.subject for m in mail.outbox] == [f"{project.title}: The survey found the frog"]


def test_my_gifts_choice_needs_a_signed_in_donor() -> None:
    response = Client().post("/my-gifts/updates/", {"all": "on"})
    assert response.status_code == 303
    assert not UpdateConsent.objects.exists()


def test_the_project_admin_warns_past_90_days(admin_client_editor: Any, project: Project) -> None:
    old = update_make(project, slug="old")
    publish(old)
    type(old).objects.filter(pk=old.pk).update(published_at=timezone.now() - timedelta(days=120))
    html = admin_client_editor.get("/admin/projects/project/").content.decode()
    assert "Days since the last update" in html
    assert "⚠ 120" in html
