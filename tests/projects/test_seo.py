"""What search engines and link previews read: meta description, canonical link, Open Graph
and Twitter tags with the social rendition, JSON-LD, sitemap.xml, robots.txt, icons, and
images with true sizes in modern formats."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.test import Client
from djmoney.money import Money
from PIL import Image, features

from projects.models import FundingTotals, Photo, Project
from projects.seo import text_excerpt
from projects.services.demo import SEED_SLUG, SUMMARY
from projects.services.images import rendition_names
from tests.conftest import add_photo
from tests.factories import DonationFactory

SITE = "https://gifts.example.org"
SEED_URL = f"/projects/{SEED_SLUG}/"


class _Head(HTMLParser):
    """Meta tags, links, JSON-LD blocks and <img>/<source> tags of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, list[str]] = {}
        self.links: dict[str, list[str]] = {}
        self.json_ld: list[str] = []
        self.images: list[dict[str, str]] = []
        self.sources: list[dict[str, str]] = []
        self._in_ld = False
        self._ld = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta" and ("name" in a or "property" in a):
            self.meta.setdefault(a.get("name") or a["property"], []).append(a.get("content", ""))
        elif tag == "link":
            self.links.setdefault(a.get("rel", ""), []).append(a.get("href", ""))
        elif tag == "script" and a.get("type") == "application/ld+json":
            self._in_ld, self._ld = True, ""
        elif tag == "img":
            self.images.append(a)
        elif tag == "source":
            self.sources.append(a)

    def handle_data(self, data: str) -> None:
        if self._in_ld:
            self._ld += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_ld:
            self.json_ld.append(self._ld)
            self._in_ld = False


def parse(html: str) -> _Head:
    head = _Head()
    head.feed(html)
    return head


def one(head: _Head, name: str) -> str:
    values = head.meta.get(name, [])
    assert len(values) == 1, (name, values)
    return values[0]


def graph(head: _Head) -> dict[str, dict[str, Any]]:
    assert len(head.json_ld) == 1
    data = json.loads(head.json_ld[0])
    assert data["@context"] == "https://schema.org"
    return {node["@type"]: node for node in data["@graph"]}


@pytest.fixture
def site(settings: Any) -> None:
    settings.SITE_URL = SITE
    settings.ORGANISATION_NAME = "Andes Trust"
    settings.ORGANISATION_REGISTRATION_SCHEME = "Registered charity number"
    settings.ORGANISATION_REGISTRATION_NUMBER = "1234567"


@pytest.fixture
def seed(db: None, site: None) -> Project:
    call_command("load_demo", stdout=io.StringIO())
    return Project.objects.get(slug=SEED_SLUG)


def _stored(name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name


# --- The seed project page ------------------------------------------------------------------


def test_seed_page_has_a_clean_meta_description_and_canonical_link(
    client: Client, seed: Project
) -> None:
    # The page asked for with a referral and a calculator amount still names one address.
    head = parse(client.get(SEED_URL + "?ref=whatsapp&gift=80").content.decode())
    description = one(head, "description")
    assert 50 < len(description) <= 160
    flat = re.sub(r"\s+", " ", SUMMARY)
    # The summary's start, cut after a whole word (an ellipsis marks the cut).
    assert description.endswith("…")
    kept = description[:-1]
    assert flat.startswith(kept) and flat[len(kept)] in " ,.;"
    assert head.links["canonical"] == [f"{SITE}{SEED_URL}"]
    assert one(head, "og:url") == f"{SITE}{SEED_URL}"
    assert "robots" not in head.meta


def test_social_card_shows_the_raised_amount_and_a_1200x630_photo(
    client: Client, seed: Project
) -> None:
    FundingTotals.objects.filter(project=seed).update(raised=Money("12400", "USD"))
    head = parse(client.get(SEED_URL).content.decode())
    assert one(head, "og:title") == seed.title
    assert one(head, "twitter:title") == seed.title
    assert one(head, "og:type") == "article"
    assert one(head, "og:site_name") == "Andes Trust"
    social = one(head, "og:description")
    assert social.startswith("$12,400 raised of $303,600 to protect 285,288 acres in Kosñipata")
    assert len(social) <= 200 and one(head, "twitter:description") == social
    assert one(head, "twitter:card") == "summary_large_image"
    assert one(head, "twitter:label1") == "Raised"
    assert one(head, "twitter:data1") == "$12,400 of $303,600"
    image = one(head, "og:image")
    assert image == one(head, "twitter:image")
    assert image.startswith(f"{SITE}/media/") and image.endswith(".jpg")
    assert (one(head, "og:image:width"), one(head, "og:image:height")) == ("1200", "630")
    assert one(head, "og:image:alt") == seed.hero_alt
    # The image answers 200 with a 1200x630 JPEG.
    response = client.get(image.removeprefix(SITE))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as card:  # type: ignore[attr-defined]
        assert card.format == "JPEG" and card.size == (1200, 630)


def test_seed_page_json_ld_describes_the_charity_and_the_project(
    client: Client, seed: Project
) -> None:
    nodes = graph(parse(client.get(SEED_URL).content.decode()))
    ngo = nodes["NGO"]
    assert ngo["name"] == "Andes Trust"
    assert ngo["url"] == f"{SITE}/"
    assert ngo["identifier"] == {
        "@type": "PropertyValue",
        "propertyID": "Registered charity number",
        "value": "1234567",
    }
    project = nodes["Project"]
    assert project["name"] == seed.title
    assert project["url"] == f"{SITE}{SEED_URL}"
    assert project["description"].startswith("The Tropical Andes, stretching from Argentina")
    assert project["parentOrganization"] == {"@id": ngo["@id"]}
    assert all(url.startswith(f"{SITE}/media/") for url in project["image"])
    assert project["location"]["address"] == {
        "@type": "PostalAddress",
        "addressLocality": "Kosñipata Valley",
        "addressRegion": "Kosnipata",
        "addressCountry": "Peru",
    }
    price = project["seeks"]["priceSpecification"]
    assert (price["price"], price["priceCurrency"]) == ("303600.00", "USD")
    assert project["potentialAction"]["@type"] == "DonateAction"


def test_json_ld_cannot_be_closed_by_page_content(client: Client, make_project: Any) -> None:
    project = make_project(title="Forest </script><script>alert(1)</script>")
    html = client.get(project.get_absolute_url()).content.decode()
    assert "</script><script>alert(1)" not in html
    nodes = graph(parse(html))
    assert nodes["Project"]["name"] == project.title  # parses back to the real title


def test_registration_number_is_left_out_when_not_configured(
    client: Client, make_project: Any, settings: Any
) -> None:
    settings.ORGANISATION_REGISTRATION_NUMBER = ""
    project = make_project()
    nodes = graph(parse(client.get(project.get_absolute_url()).content.decode()))
    assert "identifier" not in nodes["NGO"]


def test_a_project_without_a_photo_uses_the_site_card(
    client: Client, make_project: Any, site: None
) -> None:
    project = make_project()
    head = parse(client.get(project.get_absolute_url()).content.decode())
    image = one(head, "og:image")
    assert image == f"{SITE}/static/img/social-default.png"
    assert client.get(image.removeprefix(SITE)).status_code == 200
    assert one(head, "og:image:type") == "image/png"


def test_a_draft_preview_is_not_for_search_engines(admin_client: Client, make_project: Any) -> None:
    draft = make_project(status=Project.Status.DRAFT)
    head = parse(admin_client.get(draft.get_absolute_url()).content.decode())
    assert head.meta["robots"] == ["noindex"]
    assert "canonical" not in head.links


# --- List and fact sheet --------------------------------------------------------------------


def test_list_has_description_canonical_and_an_item_list(client: Client, seed: Project) -> None:
    head = parse(client.get("/projects/").content.decode())
    assert 50 < len(one(head, "description")) <= 160
    assert head.links["canonical"] == [f"{SITE}/projects/"]
    items = graph(head)["ItemList"]["itemListElement"]
    assert items == [
        {"@type": "ListItem", "position": 1, "url": f"{SITE}{SEED_URL}", "name": seed.title}
    ]


def test_fact_sheet_has_its_own_canonical_and_the_project_json_ld(
    client: Client, seed: Project
) -> None:
    url = f"{SEED_URL}fact-sheet/"
    head = parse(client.get(url).content.decode())
    assert head.links["canonical"] == [f"{SITE}{url}"]
    assert one(head, "og:title") == f"Fact sheet: {seed.title}"
    assert 50 < len(one(head, "description")) <= 160
    assert graph(head)["Project"]["url"] == f"{SITE}{SEED_URL}"


# --- Sitemap, robots.txt, icons -------------------------------------------------------------


def test_sitemap_lists_published_projects_on_the_public_origin(
    client: Client, seed: Project, make_project: Any
) -> None:
    make_project(slug="secret-draft", status=Project.Status.DRAFT)
    make_project(slug="old-archive", status=Project.Status.ARCHIVED)
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    root = ET.fromstring(response.content)  # noqa: S314 - our own sitemap
    locs = {u.findtext("s:loc", namespaces=ns): u for u in root.findall("s:url", ns)}
    assert set(locs) == {
        f"{SITE}/projects/",
        f"{SITE}{SEED_URL}",
        f"{SITE}/es/projects/",
        f"{SITE}/es{SEED_URL}",
    }
    xhtml = "{http://www.w3.org/1999/xhtml}link"
    alternates = {
        link.get("hreflang"): link.get("href") for link in locs[f"{SITE}{SEED_URL}"].iter(xhtml)
    }
    assert alternates == {
        "en": f"{SITE}{SEED_URL}",
        "es": f"{SITE}/es{SEED_URL}",
        "x-default": f"{SITE}{SEED_URL}",
    }
    assert locs[f"{SITE}{SEED_URL}"].findtext("s:lastmod", namespaces=ns) == (
        seed.updated_at.date().isoformat()
    )


def test_robots_txt_points_at_the_sitemap_and_keeps_crawlers_out_of_private_pages(
    client: Client, site: None
) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert f"Sitemap: {SITE}/sitemap.xml" in lines
    for private in ("/admin/", "/donations/", "/stripe/"):
        assert f"Disallow: {private}" in lines


def test_touch_icon_and_manifest_answer(client: Client, db: None) -> None:
    # /favicon.ico itself: tests/projects/test_site_pages.py
    response = client.get("/apple-touch-icon.png")
    assert response.status_code == 200
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as png:  # type: ignore[attr-defined]
        assert png.size == (180, 180)
    response = client.get("/site.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200, icon
    head = parse(client.get("/projects/").content.decode())
    assert head.links["icon"][0] == "/favicon.ico"
    assert head.links["apple-touch-icon"] == ["/apple-touch-icon.png"]


def test_thank_you_pages_are_not_indexed(client: Client, project: Project) -> None:
    donation = DonationFactory.create(project=project, amount=Money(Decimal(50), "USD"))
    head = parse(client.get(f"/donations/{donation.pk}/thanks/").content.decode())
    assert head.meta["robots"] == ["noindex"]


# --- Images ---------------------------------------------------------------------------------


def test_every_image_has_its_size_and_true_srcset_widths(client: Client, seed: Project) -> None:
    head = parse(client.get(SEED_URL).content.decode())
    for img in head.images:  # the photos and the site's own (the logo)
        assert img["width"] and img["height"], img
    photos = [img for img in head.images if img["src"].startswith("/media/")]
    assert len(photos) == 1 + seed.photos.count()
    candidates: list[str] = []
    for img in photos:
        assert img["width"] and img["height"] and img["alt"], img
        with Image.open(_stored(img["src"].removeprefix("/media/"))) as original:
            assert original.size == (int(img["width"]), int(img["height"]))
        candidates += img["srcset"].split(", ")
    types = [s["type"] for s in head.sources]
    modern = ["image/avif", "image/webp"] if features.check("avif") else ["image/webp"]
    assert types == modern * len(photos)  # best first, in every <picture>
    for source in head.sources:
        candidates += source["srcset"].split(", ")
    for candidate in candidates:
        url, descriptor = candidate.rsplit(" ", 1)
        with Image.open(_stored(url.removeprefix("/media/"))) as image:
            assert descriptor == f"{image.width}w", candidate


def test_upload_gets_webp_avif_and_keeps_a_png_fallback_for_transparency(project: Project) -> None:
    from django.core.files.base import ContentFile

    from projects.services.images import image_clean, photo_renditions_refresh

    out = io.BytesIO()
    Image.new("RGBA", (1000, 500), (10, 200, 30, 128)).save(out, format="PNG")
    clean = image_clean(io.BytesIO(out.getvalue()), name="leaf.png")
    photo = Photo(project=project, alt_text="A leaf")
    photo.image.save("leaf.png", ContentFile(clean.content.read()), save=True)
    photo_renditions_refresh(photo=photo)
    assert set(photo.renditions["png"]) == {"480", "960"}
    assert set(photo.renditions["webp"]) == {"480", "960", "1000"}
    with Image.open(_stored(photo.renditions["webp"]["1000"])) as webp:
        assert webp.format == "WEBP" and webp.mode == "RGBA" and webp.size == (1000, 500)
    if features.check("avif"):
        with Image.open(_stored(photo.renditions["avif"]["480"])) as avif:
            assert avif.format == "AVIF" and avif.size == (480, 240)


def test_renditions_refresh_rebuilds_old_renditions(project: Project) -> None:
    photo = add_photo(project)
    photo.renditions = {"480": photo.image.name}  # the shape stored before WebP
    photo.save()
    out = io.StringIO()
    call_command("renditions_refresh", "--missing", stdout=out)
    assert "Rebuilt 0 hero image(s) and 1 photo(s)." in out.getvalue()
    photo.refresh_from_db()
    assert "webp" in photo.renditions
    assert all(default_storage.exists(n) for n in rendition_names(photo.renditions))
    with pytest.raises(CommandError, match="No project with the slug 'nope'"):
        call_command("renditions_refresh", "--project", "nope")


def test_old_renditions_still_render_with_true_widths(client: Client, project: Project) -> None:
    photo = add_photo(project)
    photo.renditions, photo.width, photo.height = {}, 400, 300
    photo.save()
    head = parse(client.get(project.get_absolute_url()).content.decode())
    (img,) = [img for img in head.images if img["src"].startswith("/media/")]
    assert img["srcset"] == f"/media/{photo.image.name} 400w"
    assert (img["width"], img["height"]) == ("400", "300")


# --- The excerpt ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Short and sweet.", 160, "Short and sweet."),
        ("First para.\n\nSecond para is not used.", 160, "First para."),
        (
            "One. Two is a longer sentence here. Three goes past",
            40,
            "One. Two is a longer sentence here.",
        ),
        ("Tiny. " + "word " * 40, 60, "Tiny. word word word word word word word word word word…"),
        ("Unbroken" * 30, 20, "UnbrokenUnbrokenUnb…"),
        ("Lands, forests, rivers, mountains and more", 24, "Lands, forests, rivers…"),
    ],
)
def test_text_excerpt_cuts_cleanly(text: str, limit: int, expected: str) -> None:
    result = text_excerpt(text, limit)
    assert result == expected
    assert len(result) <= limit


def test_og_locale_follows_the_page_language_with_the_other_as_alternate(
    client: Client, seed: Project
) -> None:
    english = client.get(SEED_URL).content.decode()
    assert '<meta property="og:locale" content="en_US">' in english
    assert '<meta property="og:locale:alternate" content="es_PE">' in english
    spanish = client.get(f"/es{SEED_URL}").content.decode()
    assert '<meta property="og:locale" content="es_PE">' in spanish
    assert '<meta property="og:locale:alternate" content="en_US">' in spanish
