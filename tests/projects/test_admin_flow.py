"""Staff editors write project pages in the admin; money stays out of their reach."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from djmoney.money import Money

from donations.models import Donation, MatchingPool
from projects.models import FundingTotals, KeySpecies, Photo, Project, Section, Threat
from tests.conftest import jpeg_bytes
from tests.projects.conftest import add_inline, admin_form_data, form_errors, inline_prefixes

ADD_URL = "/admin/projects/project/add/"


def _add_form(client: Client) -> dict[str, Any]:
    response = client.get(ADD_URL)
    assert response.status_code == 200
    return admin_form_data(response.content.decode())


def _change_form(client: Client, project: Project) -> dict[str, Any]:
    response = client.get(f"/admin/projects/project/{project.pk}/change/")
    assert response.status_code == 200
    return admin_form_data(response.content.decode())


def _fill_project(data: dict[str, Any], **overrides: Any) -> dict[str, Any]:
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


def test_editor_adds_a_published_project_with_every_inline(editor_client: Client) -> None:
    data = _fill_project(_add_form(editor_client))
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
    data = _fill_project(_add_form(editor_client), cost_0="0", acres="")
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
    data = _change_form(editor_client, project)
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
    data = _change_form(finance_client, project)
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
    data = _change_form(finance_client, project)
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
    data = _change_form(editor_client, project)
    data["species-0-iucn_category"] = "CR"
    data["threats-0-DELETE"] = "on"
    data["sections-0-title_en"] = "New section"
    response = editor_client.post(f"/admin/projects/project/{project.pk}/change/", data)
    assert response.status_code == 302, form_errors(response.content.decode())
    assert KeySpecies.objects.get(project=project).iucn_category == "CR"
    assert not Threat.objects.filter(project=project).exists()
    assert Section.objects.get(project=project).title == "New section"


# --- The cost's currency is fixed once money is counted in it --------------------------------

CURRENCY_LOCKED = "The currency cannot change once the project has gifts or matching pools."


def _pool(*, covers_all_projects: bool = False) -> MatchingPool:
    now = timezone.now()
    return MatchingPool.objects.create(
        sponsor_name="Sponsor",
        cap=Money(1000, "USD"),
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=30),
        covers_all_projects=covers_all_projects,
    )


def _gift(project: Project) -> None:
    # Any gift counts, even one still pending: its amount is already in the project's currency.
    Donation.objects.create(
        project=project,
        amount=Money(50, "USD"),
        donor_name="Ana",
        donor_email="ana@example.org",
        status=Donation.Status.PENDING,
    )


def _covered_by_pool(project: Project) -> None:
    _pool().projects.add(project)


def _totals_not_zero(project: Project) -> None:
    # Totals carried over from elsewhere (say an import), without gift rows here.
    FundingTotals.objects.filter(project=project).update(matched=Decimal("25"))


def _post_cost(client: Client, project: Project, amount: str, currency: str) -> tuple[int, str]:
    url = f"/admin/projects/project/{project.pk}/change/"
    data = _change_form(client, project)
    assert (data["cost_0"], data["cost_1"]) == ("303600.00", "USD")
    data.update({"cost_0": amount, "cost_1": currency})
    response = client.post(url, data)
    return response.status_code, response.content.decode()


@pytest.mark.parametrize(
    "money_in_usd",
    [_gift, _covered_by_pool, _totals_not_zero],
    ids=["gift", "matching-pool", "totals"],
)
def test_currency_cannot_change_once_money_is_counted_in_it(
    finance_client: Client, project: Project, money_in_usd: Callable[[Project], None]
) -> None:
    money_in_usd(project)

    status, html = _post_cost(finance_client, project, "303600", "EUR")
    assert status == 200
    assert CURRENCY_LOCKED in form_errors(html)
    project.refresh_from_db()
    assert project.cost == Money(Decimal("303600"), "USD")

    # Changing amount and currency together is refused the same way.
    status, html = _post_cost(finance_client, project, "400000", "EUR")
    assert status == 200 and CURRENCY_LOCKED in form_errors(html)
    project.refresh_from_db()
    assert project.cost == Money(Decimal("303600"), "USD")

    # The amount alone may still change.
    status, html = _post_cost(finance_client, project, "400000", "USD")
    assert status == 302, form_errors(html)
    project.refresh_from_db()
    assert project.cost == Money(Decimal("400000"), "USD")


def test_currency_may_change_before_any_money(finance_client: Client, project: Project) -> None:
    # A pool for every project matches only projects in its own currency: it does not fix
    # the currency of a project it has not matched a gift to.
    _pool(covers_all_projects=True)

    status, html = _post_cost(finance_client, project, "280000", "EUR")
    assert status == 302, form_errors(html)
    project.refresh_from_db()
    assert project.cost == Money(Decimal("280000"), "EUR")


# --- Money figures are Finance's -------------------------------------------------------------


def test_editor_cannot_change_money_figures(editor_client: Client, project: Project) -> None:
    """The audit's case: an Editor posted cost_0=1.00 and the public page said "Funded!"."""
    Donation.objects.create(
        project=project,
        amount=Money(50, "USD"),
        donor_name="Ana",
        donor_email="ana@example.org",
        status=Donation.Status.SUCCEEDED,
    )
    FundingTotals.objects.filter(project=project).update(raised=Decimal("50"))
    url = f"/admin/projects/project/{project.pk}/change/"
    page = editor_client.get(url).content.decode()
    data = admin_form_data(page)
    for field in ["cost_0", "cost_1", "acres", "price_per_acre_override_0", "after_goal"]:
        assert field not in data, field  # shown, not editable
    assert "$303,600.00" in page or "303,600" in page
    data.update(
        {
            "cost_0": "1.00",
            "cost_1": "USD",
            "acres": "1",
            "price_per_acre_override_0": "0.01",
            "price_per_acre_override_1": "USD",
            "after_goal": Project.AfterGoal.CLOSE_FORM,
            "summary_en": "A new summary by the editor.",
        }
    )
    response = editor_client.post(url, data)
    assert response.status_code == 302, form_errors(response.content.decode())
    project.refresh_from_db()
    assert project.summary == "A new summary by the editor."  # everything else is theirs
    assert project.cost == Money(Decimal("303600"), "USD")
    assert project.acres == Decimal("285288")
    assert project.price_per_acre_override is None
    assert project.after_goal == Project.AfterGoal.KEEP_ACCEPTING
    public = Client().get(project.get_absolute_url()).content.decode()
    assert "Funded!" not in public


def test_finance_changes_money_figures(finance_client: Client, project: Project) -> None:
    url = f"/admin/projects/project/{project.pk}/change/"
    data = admin_form_data(finance_client.get(url).content.decode())
    data.update({"cost_0": "320000", "acres": "290000", "after_goal": "close"})
    response = finance_client.post(url, data)
    assert response.status_code == 302, form_errors(response.content.decode())
    project.refresh_from_db()
    assert project.cost == Money(Decimal("320000"), "USD")
    assert project.acres == Decimal("290000")
    assert project.after_goal == Project.AfterGoal.CLOSE_FORM


def test_a_refused_form_says_plainly_that_chosen_files_must_be_chosen_again(
    editor_client: Client,
) -> None:
    data = _fill_project(_add_form(editor_client), acres="")  # one error
    add_inline(
        data,
        "photos",
        {
            "image": SimpleUploadedFile(
                "frog.jpg", jpeg_bytes(800, 600), content_type="image/jpeg"
            ),
            "caption": "A glass frog.",
            "credit": "PRONATURALEZA",
            "alt_text": "A green frog on a leaf",
            "order": "0",
        },
    )
    response = editor_client.post(ADD_URL, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was saved, so the files you chose were not uploaded (frog.jpg)." in html
    assert "choose the files again before saving" in html
    assert not Project.objects.exists() and not Photo.objects.exists()
    # Without files, no such message.
    plain = editor_client.post(ADD_URL, _fill_project(_add_form(editor_client), acres=""))
    assert "were not uploaded" not in plain.content.decode()


def test_editors_are_told_what_the_credit_summary_and_fast_facts_fields_mean(
    editor_client: Client,
) -> None:
    html = editor_client.get(ADD_URL).content.decode()
    assert "the page adds “Photo courtesy of” itself" in html
    assert "Separate paragraphs with a blank line (press Enter twice)." in html
    assert "Filled in automatically the first time the project is published" in html
    assert "Fast facts. The main threat in a few words" in html


def test_a_summary_typed_in_the_admin_keeps_its_paragraphs(editor_client: Client) -> None:
    data = _fill_project(
        _add_form(editor_client), summary_en="First paragraph.\r\n\r\nSecond paragraph."
    )
    response = editor_client.post(ADD_URL, data)
    assert response.status_code == 302, form_errors(response.content.decode())
    html = Client().get("/projects/cloud-forest-corridor/").content.decode()
    assert "<p>First paragraph.</p><p>Second paragraph.</p>" in html


def test_section_bodies_get_the_rich_text_editor_allowed_by_hash_not_unsafe_inline(
    editor_client: Client,
) -> None:
    from projects.services.editor import TIPTAP_STYLE_HASH, prose_editor_importmap_hash

    response = editor_client.get(ADD_URL)
    html = response.content.decode()
    assert "data-django-prose-editor-default" in html  # the section body widget
    assert '<script type="importmap"' in html
    policy = response["Content-Security-Policy"]
    script_src = next(p for p in policy.split(";") if p.strip().startswith("script-src "))
    assert prose_editor_importmap_hash() in script_src and "unsafe-inline" not in script_src
    assert TIPTAP_STYLE_HASH in policy
    # Public pages keep the strict policy.
    public = Client().get("/projects/")["Content-Security-Policy"]
    assert "sha256-" not in public


def test_a_section_body_from_the_editor_is_still_cleaned_on_save(editor_client: Client) -> None:
    data = _fill_project(_add_form(editor_client))
    add_inline(
        data,
        "sections",
        {
            "title_en": "Habitat",
            "lead_en": "",
            "body_en": '<p onclick="x()">Cloud <strong>forest</strong><script>bad()</script>'
            '<span style="color:red">red</span></p>',
            "order": "0",
        },
    )
    response = editor_client.post(ADD_URL, data)
    assert response.status_code == 302, form_errors(response.content.decode())
    body = Project.objects.get(slug="cloud-forest-corridor").sections.get().body
    assert body == "<p>Cloud <strong>forest</strong>red</p>"
