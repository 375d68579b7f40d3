"""Taking a live project out of publication closes its giving: archive, unpublish or delete
a published project is Finance's (projects.close_project), not an Editor's."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from projects.forms import CLOSE_REFUSED_MESSAGE
from projects.models import FundingTotals, Project
from tests.projects.conftest import admin_form_data, form_errors

CHANGELIST = "/admin/projects/project/"


def _change_url(project: Project) -> str:
    return f"{CHANGELIST}{project.pk}/change/"


def _post_status(client: Client, project: Project, status: str, **fields: Any) -> Any:
    data = admin_form_data(client.get(_change_url(project)).content.decode())
    data.update({"status": status, **fields})
    return client.post(_change_url(project), data)


def _donate_form_shown(project: Project) -> bool:
    page = Client().get(project.get_absolute_url())
    return page.status_code == 200 and f"/projects/{project.slug}/donate/" in page.content.decode()


@pytest.mark.parametrize("status", [Project.Status.ARCHIVED, Project.Status.DRAFT])
def test_an_editor_cannot_close_a_live_project(
    editor_client: Client, project: Project, status: str
) -> None:
    assert project.status == Project.Status.PUBLISHED and _donate_form_shown(project)
    response = _post_status(editor_client, project, status, summary_en="Edited.")
    assert response.status_code == 200  # the form again, with the error beside the field
    assert CLOSE_REFUSED_MESSAGE in form_errors(response.content.decode())
    project.refresh_from_db()
    assert project.status == Project.Status.PUBLISHED
    assert project.summary != "Edited."  # nothing half-saved
    assert _donate_form_shown(project)


def test_an_editor_still_edits_a_live_project_and_moves_drafts(
    editor_client: Client, project: Project, make_project: Any
) -> None:
    response = _post_status(editor_client, project, Project.Status.PUBLISHED, summary_en="New.")
    assert response.status_code == 302, form_errors(response.content.decode())
    project.refresh_from_db()
    assert project.summary == "New." and project.status == Project.Status.PUBLISHED
    draft = make_project(slug="a-draft", status=Project.Status.DRAFT)
    response = _post_status(editor_client, draft, Project.Status.ARCHIVED)
    assert response.status_code == 302, form_errors(response.content.decode())
    draft.refresh_from_db()
    assert draft.status == Project.Status.ARCHIVED


@pytest.mark.parametrize("status", [Project.Status.ARCHIVED, Project.Status.DRAFT])
def test_finance_closes_a_live_project(
    finance_client: Client, project: Project, status: str
) -> None:
    response = _post_status(finance_client, project, status)
    assert response.status_code == 302, form_errors(response.content.decode())
    project.refresh_from_db()
    assert project.status == status
    assert not _donate_form_shown(project)


def test_an_editor_cannot_delete_a_live_project_one_by_one_or_in_bulk(
    editor_client: Client, project: Project, make_project: Any
) -> None:
    # As the admin makes it: a new project has no totals row until its first gift (an
    # editor may not delete those rows, which would hide the rule under test).
    FundingTotals.objects.all().delete()
    assert editor_client.get(f"{CHANGELIST}{project.pk}/delete/").status_code == 403
    assert (
        editor_client.post(f"{CHANGELIST}{project.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    change_page = editor_client.get(_change_url(project)).content.decode()
    assert f"{CHANGELIST}{project.pk}/delete/" not in change_page  # no Delete link
    # The changelist's "Delete selected projects" action: its confirmation page refuses,
    # and the confirming post too.
    action = {"action": "delete_selected", "_selected_action": [str(project.pk)]}
    response = editor_client.post(CHANGELIST, action)
    assert response.status_code == 200
    assert "Cannot delete project" in response.content.decode()
    assert editor_client.post(CHANGELIST, {**action, "post": "yes"}).status_code == 403
    assert Project.objects.filter(pk=project.pk).exists()
    # A draft is the editor's to delete.
    draft = make_project(slug="a-draft", status=Project.Status.DRAFT)
    FundingTotals.objects.filter(project=draft).delete()
    response = editor_client.post(f"{CHANGELIST}{draft.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Project.objects.filter(pk=draft.pk).exists()
