"""Helpers of the admin flow tests: the project add and change forms as the admin renders
them, filled in as an editor would."""

from __future__ import annotations

from typing import Any

from django.test import Client

from projects.models import Project
from tests.projects.conftest import admin_form_data

ADD_URL = "/admin/projects/project/add/"


def add_form(client: Client) -> dict[str, Any]:
    response = client.get(ADD_URL)
    assert response.status_code == 200
    return admin_form_data(response.content.decode())


def change_form(client: Client, project: Project) -> dict[str, Any]:
    response = client.get(f"/admin/projects/project/{project.pk}/change/")
    assert response.status_code == 200
    return admin_form_data(response.content.decode())


def fill_project(data: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    data.update(
        {
            "title_en": "Cloud Forest Corridor",
            "slug": "cloud-forest-corridor",
            "status": "published",
            "summary_en": "A corridor of cloud forest.\n\nIt links two parks.",
            "place": "Kosñipata Valley",
            "region": "Cusco",
            "country_en": "Peru",
            "cost_0": "303600",
            "cost_1": "USD",
            "acres": "285288",
            "habitat_en": "Cloud forest",
            "partner_name": "Pronaturaleza",
            "partner_url": "https://www.pronaturaleza.org/",
        }
    )
    data.update(overrides)
    return data
