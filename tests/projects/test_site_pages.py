"""The pages every visitor can reach besides projects: the favicon, the "100%" explanation,
and the trust line of the footer."""

from __future__ import annotations

from django.test import Client
from django.test.utils import override_settings


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
