"""The pages every visitor can reach besides projects: the favicon, the "100%" explanation,
and the trust line of the footer."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.test.utils import override_settings

from projects.templatetags.campaign_tags import credit_line, lead_is_teaser, paragraphs


def test_favicon_is_served(client: Client, db: None) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert "max-age=86400" in response["Cache-Control"]


@override_settings(ORGANISATION_NAME="Wild Land Trust", ORGANISATION_REGISTRATION="Charity 1234567")
def test_every_page_names_the_charity_and_explains_the_hundred_percent(
    client: Client, db: None
) -> None:
    page = client.get("/projects/").content.decode()
    assert "Wild Land Trust" in page and "Charity 1234567" in page
    assert 'href="/how-your-gift-is-used/"' in page
    assert "Payments by Stripe" in page
    explained = client.get("/how-your-gift-is-used/")
    assert explained.status_code == 200
    text = explained.content.decode()
    assert "Our running costs are paid separately" in text
    assert "Wild Land Trust, Charity 1234567" in text


# --- the page's own filters, as editors' text reaches them ------------------------------------


def test_summary_paragraphs_split_on_a_blank_line_whatever_the_line_endings() -> None:
    typed_in_the_admin = "First para.\r\n\r\nSecond para.\r\n  \r\nThird.\r\nstill third."
    assert paragraphs(typed_in_the_admin) == ["First para.", "Second para.", "Third.\nstill third."]
    assert paragraphs("One.\n\nTwo.") == ["One.", "Two."]
    assert paragraphs("") == []


def test_credit_line_adds_photo_courtesy_of_only_once() -> None:
    assert (
        credit_line("Michell Leon/PRONATURALEZA") == "Photo courtesy of Michell Leon/PRONATURALEZA."
    )
    assert credit_line("Photo courtesy of Ana.") == "Photo courtesy of Ana."
    assert credit_line("photo courtesy of Ana") == "photo courtesy of Ana."
    assert credit_line("© Ana Ruiz") == "© Ana Ruiz."
    assert credit_line("Illustration by the site") == "Illustration by the site."
    assert credit_line("  ") == ""


def test_a_lead_that_starts_the_body_is_a_teaser() -> None:
    body = "<p>This territory is critical for connectivity. It bridges two parks.</p>"
    assert lead_is_teaser("This territory is critical for connectivity...", body)
    assert lead_is_teaser("This territory is critical for connectivity.", body)
    assert not lead_is_teaser("A lead of its own.", body)
    assert not lead_is_teaser("", body)


def test_totals_json_is_two_queries_and_hides_drafts(
    client: Client, django_assert_num_queries: Any, make_project: Any
) -> None:
    project = make_project()
    with django_assert_num_queries(2):  # the project with its totals, the open pools
        response = client.get(f"/projects/{project.slug}/totals.json")
    assert response.status_code == 200
    data = response.json()
    assert data["raised"] == "0.00" and data["donor_count"] == 0 and data["match_remaining"] is None
    assert data["summary"] == "$0 raised of $303,600 from 0 donors."
    draft = make_project(status="draft")
    assert client.get(f"/projects/{draft.slug}/totals.json").status_code == 404
