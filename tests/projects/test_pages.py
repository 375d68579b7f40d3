"""The public pages: list, detail (with the seed project), calculator, fact sheet, health."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from djmoney.money import Money

from donations.models import Donation, MatchingPool
from projects.models import FundingTotals, KeySpecies, Photo, Project, Section, Threat
from projects.services.demo import SEED_SLUG
from tests.conftest import add_photo
from tests.factories import (
    DonationFactory,
    KeySpeciesFactory,
    MatchingPoolFactory,
    SectionFactory,
    ThreatFactory,
)
from tests.projects.conftest import media_files

SEED_URL = f"/projects/{SEED_SLUG}/"
SEED_TITLE = "Securing the Cornerstone of Andes-Amazon Conservation Corridor"


def _text(html: str) -> str:
    """The page's text with tags removed and whitespace collapsed, as a reader sees it."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _by_testid(html: str, testid: str) -> str:
    match = re.search(rf'<(\w+)[^>]*\bdata-testid="{testid}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, testid
    return _text(match.group(2)).strip()


# --- List -----------------------------------------------------------------------------------


def test_list_shows_published_projects_only(client: Client, make_project: Any) -> None:
    make_project(title="Open Forest", slug="open-forest")
    make_project(title="Hidden Draft", slug="hidden-draft", status=Project.Status.DRAFT)
    make_project(title="Old Archive", slug="old-archive", status=Project.Status.ARCHIVED)
    response = client.get("/projects/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Open Forest" in html and 'href="/projects/open-forest/"' in html
    assert "Hidden Draft" not in html
    assert "Old Archive" not in html
    # An archived project keeps its page (old links, receipts); a draft does not.
    assert client.get("/projects/old-archive/").status_code == 200
    assert client.get("/projects/hidden-draft/").status_code == 404
    assert client.get("/projects/no-such-project/").status_code == 404


def test_list_says_so_when_nothing_is_open(client: Client, db: None) -> None:
    assert "No projects are open yet." in client.get("/projects/").content.decode()


def test_root_redirects_to_the_list(client: Client, db: None) -> None:
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/projects/"


# --- The seed project -----------------------------------------------------------------------


def test_detail_page_shows_every_seed_fact(client: Client, db: None) -> None:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert f"Demo project ready: {SEED_URL}" in out.getvalue()
    response = client.get(SEED_URL)
    assert response.status_code == 200
    html = response.content.decode()
    text = _text(html)

    assert f"<h1>{SEED_TITLE}</h1>" in html
    assert _by_testid(html, "cost") == "$303,600"
    assert _by_testid(html, "raised") == "$0"
    assert _by_testid(html, "price-per-acre") == "$1.17 per acre"
    assert "$1.17 per acre 1 acre = 43,560 sq ft" in text
    assert "285,288 acres to protect" in text
    assert "Kosñipata Valley, Kosnipata, Peru" in text
    assert "100% of your donation goes to conservation. What that means" in text
    assert '<a href="/how-your-gift-is-used/">What that means</a>' in html
    # The thermometer is live (thermometer.js polls it): no apology for a stale one.
    assert f'data-totals-url="/projects/{SEED_SLUG}/totals.json"' in html
    assert "may not be immediately reflected" not in text
    assert "2X The Impact" in text

    # Key species, each with its IUCN category spelled out.
    for common, scientific, category, label in [
        ("Trueb’s Cochran Frog", "Nymphargus truebae", "CR", "Critically Endangered"),
        ("Andean Cat", "Leopardus jacobita", "EN", "Endangered"),
        ("Cusco Andes Frog", "Bryophryne cophites", "EN", "Endangered"),
        ("Geoffroy’s Woolly Monkey", "Lagothrix cana", "EN", "Endangered"),
    ]:
        pattern = (
            rf"<li>{re.escape(common)} <i>\({scientific}\)</i>\s*"
            rf'<abbr class="iucn" title="IUCN Red List: {label}"[^>]*>{category}</abbr>'
            rf'<span class="visually-hidden"> \({label}\)</span></li>'
        )
        assert re.search(pattern, html), common

    # Fast facts.
    assert (
        "Habitat The Tropical Andes; humid puna grasslands, cloud forests and highland forests"
        in text
    )
    assert "Threat Growth in illegal mining operations" in text
    assert "Conservation Action Designation of new regional reserve" in text
    assert '<a href="https://www.pronaturaleza.org/" rel="noopener">Pronaturaleza</a>' in html
    assert "Financial Need $303,600" in text
    assert "Price per Acre $1.17" in text
    assert "Acres 285,288" in text

    # Summary, sections, threats, photos and credits.
    assert "less than 25 percent of its habitat remains intact" in text
    assert "Pronaturaleza seek $303,600 to designate 285,288 acres" in text
    for title in ["Habitat and species", "Threats", "Communities", "Solution"]:
        assert f">{title}</h2>" in html
    assert "endemic to the Kosñipata Valley" in text
    assert "Illegal gold mining" in text
    # The seed's photos are not ours: illustrations stand in, and say so everywhere.
    assert "Illustration of the Kosñipata Valley, in place of the seed page’s photo" in text
    for caption in [
        "A recently discovered new species of Andean Lizard (Proctoporus machupicchu).",
        "Gold mining waste pits.",
        "Local indigenous community members.",
        "Beautiful intact forests.",
    ]:
        assert f"in place of the seed page’s photo “{caption}”" in text
    assert text.count("Illustration by the demo loader.") == 5  # hero + 4, never "courtesy"
    assert "Photo courtesy of" not in text
    alts = re.findall(r'<img [^>]*alt="([^"]*)"', html)
    photo_alts = [a for a in alts if a]
    assert len(photo_alts) == 5 and all(a.startswith("Illustration: ") for a in photo_alts)
    assert "PLACEHOLDER" not in html


def test_load_demo_is_idempotent(db: None) -> None:
    def counts() -> dict[str, int]:
        return {
            "projects": Project.objects.count(),
            "species": KeySpecies.objects.count(),
            "threats": Threat.objects.count(),
            "sections": Section.objects.count(),
            "photos": Photo.objects.count(),
            "totals": FundingTotals.objects.count(),
            "pools": MatchingPool.objects.count(),
            "files": len(media_files()),
        }

    call_command("load_demo", stdout=io.StringIO())
    first = counts()
    assert first["projects"] == 1
    assert first["species"] == 4 and first["threats"] == 4 and first["sections"] == 4
    assert first["photos"] == 4 and first["pools"] == 1 and first["files"] > 5
    project = Project.objects.get(slug=SEED_SLUG)
    published_at, photo_names = project.published_at, set(Photo.objects.values_list("image"))

    call_command("load_demo", stdout=io.StringIO())
    assert counts() == first
    project.refresh_from_db()
    assert project.published_at == published_at
    assert set(Photo.objects.values_list("image")) == photo_names


# --- Calculator and funded state ------------------------------------------------------------


def test_calculator_works_without_javascript(client: Client, project: Project) -> None:
    default = client.get(project.get_absolute_url()).content.decode()
    assert _by_testid(default, "calc-output") == "$50 protects about 47 acres"

    html = client.get(project.get_absolute_url(), {"gift": "100"}).content.decode()
    assert _by_testid(html, "calc-output") == "$100 protects about 94 acres"
    assert 'name="gift" id="id_gift"' in html and 'value="100"' in html
    assert '<form class="calculator" method="get"' in html

    small = client.get(project.get_absolute_url(), {"gift": "5"}).content.decode()
    assert _by_testid(small, "calc-output") == "$5 protects about 4.7 acres"

    cents = client.get(project.get_absolute_url(), {"gift": "12.50"}).content.decode()
    assert _by_testid(cents, "calc-output") == "$12.50 protects about 12 acres"

    whole = client.get(project.get_absolute_url(), {"gift": "400000"}).content.decode()
    assert _by_testid(whole, "calc-output") == (
        "$400,000 would fund the whole project: all 285,288 acres"
    )


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("abc", "Enter an amount in numbers, such as 50 or 25.50."),
        ("1e9", "Enter an amount in numbers, such as 50 or 25.50."),
        ("-5", "Enter an amount in numbers, such as 50 or 25.50."),
        ("1e400", "Enter an amount in numbers, such as 50 or 25.50."),
        ("0", "Enter an amount of at least 1."),
        ("0.50", "Enter an amount of at least 1."),
        ("1000000000", "Enter an amount of at most 10,000,000."),
    ],
)
def test_calculator_refuses_nonsense_with_a_message_and_no_result(
    client: Client, project: Project, bad: str, message: str
) -> None:
    html = client.get(project.get_absolute_url(), {"gift": bad}).content.decode()
    assert f'<p class="error" id="calc-error" role="alert">{message}</p>' in html, bad
    assert _by_testid(html, "calc-output") == "", bad  # no stale or absurd figure
    assert 'aria-invalid="true" aria-describedby="calc-hint calc-error"' in html
    assert "Ensure this value" not in html


def test_acres_json_answers_as_the_page_does(client: Client, project: Project) -> None:
    """What project.js shows as the donor types: the page's own sentence for the same gift
    (the _calc_result.html it renders without JavaScript), or the form's message."""
    page = client.get(project.get_absolute_url()).content.decode()
    url = re.search(r'data-acres-url="([^"]+)"', page)
    assert url, "the calculator names its endpoint"
    address = url.group(1).replace("&amp;", "&")
    assert address.startswith(f"/projects/{project.slug}/acres.json?v=")
    for gift in ("50", "100", "5", "12.50", "1.06", "400000"):
        answer = client.get(address, {"gift": gift})
        assert answer.status_code == 200
        assert "public" in answer["Cache-Control"] and "max-age=86400" in answer["Cache-Control"]
        shown = client.get(project.get_absolute_url(), {"gift": gift}).content.decode()
        assert _text(answer.json()["html"]).strip() == _by_testid(shown, "calc-output"), gift
    # The default gift's and the presets' answers are in the page already, the same ones.
    embedded = re.search(r'data-answers="([^"]+)"', page)
    assert embedded
    answers = json.loads(unescape(embedded.group(1)))
    assert set(answers) == {"25", "50", "100", "250"}
    for gift, answer in answers.items():
        assert answer == client.get(address, {"gift": gift}).json(), gift
    assert _text(client.get(address, {"gift": "1.06"}).json()["html"]).strip() == (
        "$1.06 protects 1 acre"
    )
    refused = client.get(address, {"gift": "1000000000"})
    assert refused.status_code == 400
    assert refused.json() == {"error": "Enter an amount of at most 10,000,000."}
    # The address changes with the price, so a browser's kept answer is never the old one's.
    project.price_per_acre_override = Money(Decimal("1.17"), "USD")
    project.save()
    again = client.get(project.get_absolute_url()).content.decode()
    assert f'data-acres-url="{url.group(1)}"' not in again
    # In Spanish, the Spanish sentence and message (the page's language).
    es = client.get(f"/es/projects/{project.slug}/acres.json", {"gift": "1000000000"})
    assert es.json() == {"error": "Escribe un monto de como máximo 10.000.000."}


def test_acres_json_of_a_draft_is_for_staff_and_never_shared(
    client: Client, make_project: Any, admin_user: Any
) -> None:
    draft = make_project(slug="a-draft", status=Project.Status.DRAFT)
    assert client.get(f"/projects/{draft.slug}/acres.json", {"gift": "50"}).status_code == 404
    client.force_login(admin_user)
    answer = client.get(f"/projects/{draft.slug}/acres.json", {"gift": "50"})
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"] and "public" not in answer["Cache-Control"]


def test_funded_banner_appears_once_raised_reaches_cost(client: Client, project: Project) -> None:
    totals = FundingTotals.objects.get(project=project)
    totals.raised = Money(Decimal("303599.99"), "USD")
    totals.save()
    html = client.get(project.get_absolute_url()).content.decode()
    assert "funded-banner" not in html and "Funded!" not in html
    assert "$0.01 to go" in _text(html)

    totals.raised = Money(Decimal("303600"), "USD")
    totals.save()
    html = client.get(project.get_absolute_url()).content.decode()
    assert html.count('class="funded-banner"') == 1
    assert (
        "Thanks to generous support from our donors, we have successfully reached our "
        "fundraising goal for this project." in html
    )
    assert _by_testid(html, "raised") == "$303,600"
    assert _by_testid(html, "percent") == "100%"
    assert "100% funded" in _text(html) and "Goal reached" in _text(html)


def test_matched_gifts_count_towards_the_goal(client: Client, project: Project) -> None:
    FundingTotals.objects.filter(project=project).update(
        raised=Decimal("200000"), matched=Decimal("103600")
    )
    html = client.get(project.get_absolute_url()).content.decode()
    assert html.count('class="funded-banner"') == 1
    assert _by_testid(html, "matched") == "$103,600"


def test_fact_sheet(client: Client, db: None) -> None:
    call_command("load_demo", stdout=io.StringIO())
    response = client.get(f"/projects/{SEED_SLUG}/fact-sheet/")
    assert response.status_code == 200
    html = response.content.decode()
    text = _text(html)
    assert '<link rel="stylesheet" href="/static/css/print.css">' in html
    assert SEED_TITLE in text
    for species in [
        "Trueb’s Cochran Frog",
        "Andean Cat",
        "Cusco Andes Frog",
        "Geoffroy’s Woolly Monkey",
    ]:
        assert species in text
    assert "Local partner Pronaturaleza · https://www.pronaturaleza.org/" in text
    assert "$1.17 per acre (1 acre = 43,560 sq ft)" in text
    assert "285,288 acres" in text
    assert f"http://testserver/projects/{SEED_SLUG}/" in text
    # The stylesheet it links is really served.
    css = client.get("/static/css/print.css")
    assert css.status_code == 200
    assert b"@media print" in b"".join(css.streaming_content)  # type: ignore[attr-defined]


# --- Query count ----------------------------------------------------------------------------


def _gift(project: Project, n: int) -> Donation:
    return DonationFactory.create(
        project=project,
        amount=Money(Decimal(10 + n), "USD"),
        donor_name=f"Donor {n}",
        message=f"Message {n}",
        succeeded=True,
    )


def _queries_for(client: Client, url: str) -> tuple[int, str]:
    """The queries of rendering the page (the whole-page cache emptied first: a hit is one
    query whatever the page, tests/projects/test_page_cache.py)."""
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_detail_page_query_count_does_not_grow_with_content(
    client: Client, make_project: Any
) -> None:
    small = make_project(title="Small", slug="small")
    KeySpeciesFactory.create(project=small, common_name="Only Species")
    add_photo(small, 0)

    big = make_project(title="Big", slug="big")
    for n in range(8):
        KeySpeciesFactory.create(project=big, common_name=f"Species {n}", iucn_category="VU")
        ThreatFactory.create(project=big, title=f"Threat {n}")
        SectionFactory.create(project=big, title=f"Section {n}", body=f"<p>Body {n}</p>")
        add_photo(big, n)
    for n in range(6):
        _gift(big, n)
    MatchingPoolFactory.create(projects=[small, big], ends_at=timezone.now() + timedelta(days=1))

    client.get(small.get_absolute_url())  # warm-up: nothing per-process left to load
    small_count, _ = _queries_for(client, small.get_absolute_url())
    big_count, html = _queries_for(client, big.get_absolute_url())
    text = _text(html)
    # The big page really shows all of it.
    assert all(f"Species {n}" in text for n in range(8))
    assert all(f"Caption {n}" in text for n in range(8))
    assert all(f"Section {n}" in text for n in range(8))
    assert all(f"Donor {n} gave" in text for n in range(6))
    assert "2X The Impact" in text
    assert big_count == small_count
    # project+totals, 4 prefetches, match offer, supporters, the latest updates (stewardship's
    # tag, index-served); and for the whole-page cache the page version and the next time a
    # pool opens or closes.
    assert big_count <= 10


def test_list_page_query_count_does_not_grow_with_projects(
    client: Client, make_project: Any
) -> None:
    first = make_project()
    add_photo(first, 0)
    one, _ = _queries_for(client, "/projects/")
    for n in range(1, 7):
        add_photo(make_project(), n)
    many, html = _queries_for(client, "/projects/")
    assert html.count('class="card"') == 7
    assert many == one


# --- Health ---------------------------------------------------------------------------------


def test_healthz_reports_database_and_cache(client: Client, db: None) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_503_when_the_cache_is_down(client: Client, db: None) -> None:
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }
    with override_settings(CACHES=unreachable):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"].startswith("error: ")
