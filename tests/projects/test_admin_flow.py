"""Staff editors write project pages in the admin; money stays out of their reach."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from djmoney.money import Money

from donations.models import Donation
from projects.models import FundingTotals, KeySpecies, Photo, Project, Section, Threat
from tests.conftest import jpeg_bytes
from tests.projects.admin_flow_helpers import ADD_URL, add_form, change_form, fill_project
from tests.projects.conftest import add_inline, form_errors, inline_prefixes


def test_editor_adds_a_published_project_with_every_inline(editor_client: Client) -> None:
    data = fill_project(add_form(editor_client))
    # The four inlines, named as the admin page names them.
    assert inline_prefixes(data) == {"species", "threats", "sections", "photos"}
    add_inline(
        data,
        "species",
        {
            "common_name_en": "Andean Cat",
            "scientific_name": "Leopardus jacobita",
            "iucn_category": "EN",
            "order": "0",
        },
    )
    add_inline(
        data,
        "threats",
        {
            "title_en": "Illegal gold mining",
            "description_en": "Mining moves upstream.",
            "order": "0",
        },
    )
    add_inline(
        data,
        "sections",
        {
            "title_en": "Habitat and species",
            "lead_en": "A bridge between two parks.",
            "body_en": "<p>Humid puna <em>grasslands</em> and cloud forests.</p>",
            "order": "0",
        },
    )
    add_inline(
        data,
        "photos",
        {
            "image": SimpleUploadedFile(
                "lizard.jpg", jpeg_bytes(1200, 800), content_type="image/jpeg"
            ),
            "caption_en": "A newly described Andean lizard.",
            "credit": "PRONATURALEZA",
            "alt_text_en": "A small brown lizard on a rock",
            "order": "0",
        },
    )

    response = editor_client.post(ADD_URL, data)
    assert response.status_code == 302, form_errors(response.content.decode())

    project = Project.objects.get(slug="cloud-forest-corridor")
    assert project.status == Project.Status.PUBLISHED
    assert project.published_at is not None  # set on publishing
    assert project.cost == Money(Decimal("303600"), "USD")
    photo = Photo.objects.get(project=project)
    assert (photo.width, photo.height) == (1200, 800)
    # The fallback JPEG narrower than the original only (the original is the widest); the
    # modern formats at those widths and the original's own.
    assert set(photo.renditions["jpeg"]) == {"480", "960"}
    assert set(photo.renditions["webp"]) == {"480", "960", "1200"}

    page = Client().get("/projects/cloud-forest-corridor/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Cloud Forest Corridor" in html
    assert "Andean Cat" in html and "Leopardus jacobita" in html
    assert "IUCN Red List: Endangered" in html
    assert "Illegal gold mining" in html
    assert "Habitat and species" in html
    assert "<em>grasslands</em>" in html
    assert "A newly described Andean lizard." in html
    assert f"/media/{photo.renditions['jpeg']['480']} 480w" in html
    assert f"/media/{photo.renditions['webp']['1200']} 1200w" in html
    # And it is on the public list.
    assert "Cloud Forest Corridor" in Client().get("/projects/").content.decode()


def test_add_form_errors_are_shown_and_nothing_is_saved(editor_client: Client) -> None:
    data = fill_project(add_form(editor_client), cost_0="0", acres="")
    response = editor_client.post(ADD_URL, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Please correct the errors below." in html
    assert "The cost must be more than zero." in html
    assert not Project.objects.exists()


def test_editor_sees_project_pages_but_no_money(
    editor_client: Client, project: Project, editor: User
) -> None:
    donation = Donation.objects.create(
        project=project,
        amount=Money(50, "USD"),
        donor_name="Ana",
        donor_email="ana@example.org",
        status=Donation.Status.SUCCEEDED,
    )
    for url in [
        "/admin/projects/project/",
        f"/admin/projects/project/{project.pk}/change/",
        ADD_URL,
    ]:
        assert editor_client.get(url).status_code == 200, url
    for url in [
        "/admin/donations/donation/",
        f"/admin/donations/donation/{donation.pk}/change/",
        "/admin/donations/matchingpool/",
        "/admin/donations/matchingpool/add/",
        "/admin/donations/webhookevent/",
        "/admin/projects/fundingtotals/",
        f"/admin/projects/fundingtotals/{project.pk}/change/",
    ]:
        assert editor_client.get(url).status_code == 403, url

    index = editor_client.get("/admin/").content.decode()
    assert "/admin/projects/project/" in index
    assert "/admin/donations/" not in index
    assert "/admin/projects/fundingtotals/" not in index
    # The group grants nothing about money, whatever the admin pages do.
    assert not any(
        editor.has_perm(p)
        for p in [
            "donations.view_donation",
            "donations.change_donation",
            "donations.view_matchingpool",
            "projects.view_fundingtotals",
            "projects.change_fundingtotals",
        ]
    )


def test_editor_cannot_change_totals_through_the_project_form(
    editor_client: Client, project: Project
) -> None:
    data = change_form(editor_client, project)
    assert not any(k.startswith(("raised", "matched", "donor_count", "totals")) for k in data)
    data.update({"raised_0": "999999", "raised_1": "USD", "donor_count": "500"})
    response = editor_client.post(f"/admin/projects/project/{project.pk}/change/", data)
    assert response.status_code == 302, form_errors(response.content.decode())
    totals = FundingTotals.objects.get(project=project)
    assert totals.raised.amount == 0 and totals.donor_count == 0


def test_draft_is_hidden_from_the_public_and_previewed_by_staff(
    editor_client: Client, make_project: Any
) -> None:
    draft = make_project(status=Project.Status.DRAFT, title="Secret Draft", slug="secret-draft")
    anonymous = Client()
    assert anonymous.get("/projects/secret-draft/").status_code == 404
    assert anonymous.get("/projects/secret-draft/fact-sheet/").status_code == 404
    assert "Secret Draft" not in anonymous.get("/projects/").content.decode()

    preview = editor_client.get(draft.get_absolute_url())
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Secret Draft" in html
    assert "<strong>Preview</strong> of a draft: only staff can see this page" in html
    # A preview says it is one, not that the project stopped taking gifts.
    assert "not accepting gifts any more" not in html
    assert "the donate form appears here once the project is published" in html
    assert editor_client.get("/projects/secret-draft/fact-sheet/").status_code == 200
    # A draft is not open for gifts, even to staff previewing it.
    assert "Secret Draft" not in editor_client.get("/projects/").content.decode()

    # Staff without the projects permissions (e.g. another team) do not see drafts.
    other = User.objects.create_user("other-staff", password="x-pass-98765", is_staff=True)
    outsider = Client()
    outsider.force_login(other)
    assert outsider.get("/projects/secret-draft/").status_code == 404
    # Nor does a logged-in non-staff user who somehow holds the permission.
    editor_like = User.objects.create_user("not-staff", password="x-pass-98765")
    editor_like.user_permissions.add(
        *User.objects.get(username="editor").groups.get().permissions.all()
    )
    non_staff = Client()
    non_staff.force_login(editor_like)
    assert non_staff.get("/projects/secret-draft/").status_code == 404


def test_changelist_shows_raised_and_percent_funded(
    editor_client: Client, make_project: Any
) -> None:
    half = make_project(title="Half Funded", slug="half-funded")
    FundingTotals.objects.filter(project=half).update(raised=Decimal("100000"))
    FundingTotals.objects.filter(project=half).update(matched=Decimal("51800"))
    make_project(title="Not Started", slug="not-started")
    html = editor_client.get("/admin/projects/project/").content.decode()
    assert "column-raised" in html and "column-percent_funded" in html
    assert ">Raised<" in html and ">% funded<" in html
    rows = _changelist_rows(html)
    # (100,000 from donors + 51,800 matched) of 303,600.
    assert rows["Half Funded"]["percent_funded"] == "50 %"
    assert "151,800" in rows["Half Funded"]["raised"]
    assert rows["Not Started"]["percent_funded"] == "0 %"
    assert rows["Not Started"]["raised"].startswith("$0")


def _changelist_rows(html: str) -> dict[str, dict[str, str]]:
    """{title: {column: text}} from the admin changelist table."""
    rows: dict[str, dict[str, str]] = {}
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    for row in body.split("<tr")[1:]:
        cells = dict(re.findall(r'class="field-(\w+)[^"]*">(.*?)</t[dh]>', row, re.S))
        cells = {k: re.sub(r"<[^>]+>", "", v).strip() for k, v in cells.items()}
        rows[cells["title"]] = cells
    return rows


def test_price_override_far_from_cost_over_acres_warns(
    finance_client: Client, project: Project
) -> None:
    url = f"/admin/projects/project/{project.pk}/change/"
    data = change_form(finance_client, project)
    data.update({"price_per_acre_override_0": "1.17", "price_per_acre_override_1": "USD"})
    response = finance_client.post(url, data, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Check the price per acre: the override $1.17 differs from cost ÷ acres = $1.06" in html
    # A warning, not an error: the override is saved.
    project.refresh_from_db()
    assert project.price_per_acre_override == Money(Decimal("1.17"), "USD")
    # The change form points it out next to the field too.
    change = finance_client.get(url).content.decode()
    assert "⚠ Override $1.17; cost ÷ acres = $1.06" in change


def test_price_override_within_five_percent_does_not_warn(
    finance_client: Client, project: Project
) -> None:
    url = f"/admin/projects/project/{project.pk}/change/"
    data = change_form(finance_client, project)
    data.update({"price_per_acre_override_0": "1.10", "price_per_acre_override_1": "USD"})
    html = finance_client.post(url, data, follow=True).content.decode()
    assert "was changed successfully" in html
    assert "Check the price per acre" not in html
    project.refresh_from_db()
    assert project.price_per_acre_override == Money(Decimal("1.10"), "USD")
    assert "⚠" not in finance_client.get(url).content.decode()


def test_inline_edits_and_deletes_are_saved(editor_client: Client, project: Project) -> None:
    Threat.objects.create(project=project, title="Old threat")
    Section.objects.create(project=project, title="Old section", body="<p>x</p>")
    data = change_form(editor_client, project)
    data["species-0-iucn_category"] = "CR"
    data["threats-0-DELETE"] = "on"
    data["sections-0-title_en"] = "New section"
    response = editor_client.post(f"/admin/projects/project/{project.pk}/change/", data)
    assert response.status_code == 302, form_errors(response.content.decode())
    assert KeySpecies.objects.get(project=project).iucn_category == "CR"
    assert not Threat.objects.filter(project=project).exists()
    assert Section.objects.get(project=project).title == "New section"
