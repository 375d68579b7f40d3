"""The whole-page cache of the public pages (campaign/pagecache.py).

Anonymous visitors share one rendered copy per page, language and page versions; any change
a page shows moves its versions in the database (triggers), so the next visitor sees it
(per project page since issue 19: tests/projects/test_page_versions.py). The
copy carries no visitor's CSRF token: csrf.js fetches the visitor's own from /csrf/, and a
post without one gets the form back with one.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from djmoney.money import Money

from donations.models import Donation, MatchingPool
from projects.models import Project, Section
from tests.conftest import admin_login
from tests.factories import DonationFactory, MatchingPoolFactory, SectionFactory, StaffFactory

DETAIL_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]*)"')


def _get(client: Client, url: str) -> tuple[Any, str]:
    response = client.get(url)
    assert response.status_code == 200
    return response, response.content.decode()


def _pool(project: Project, **overrides: Any) -> MatchingPool:
    fields: dict[str, Any] = {"ends_at": timezone.now() + timedelta(days=1), **overrides}
    return MatchingPoolFactory.create(projects=[project], **fields)


def test_second_anonymous_visit_is_one_query_and_shareable(
    client: Client, project: Project
) -> None:
    first, html = _get(client, project.get_absolute_url())
    assert first["X-Page-Cache"] == "miss"
    with CaptureQueriesContext(connection) as ctx:
        second, again = _get(Client(), project.get_absolute_url())
    assert second["X-Page-Cache"] == "hit"
    assert again == html
    assert len(ctx.captured_queries) == 1  # the page's versions, by slug and primary key
    for response in (first, second):
        # Nothing per visitor: no cookie, no token; a proxy may keep it briefly. It varies
        # only on what picks its language (the language cookie, Accept-Language): nginx keys
        # on exactly those (campaign/nginx.conf), and /es/... varies on nothing.
        assert not response.cookies
        assert _vary(response) == {"accept-language", "cookie"}
        assert response["X-Accel-Expires"] == "5"
        assert "public" in response["Cache-Control"]
    assert set(DETAIL_TOKEN.findall(html)) == {""}  # the donate form and the language switcher
    spanish, _ = _get(Client(), f"/es{project.get_absolute_url()}")
    assert spanish["Content-Language"] == "es"
    assert _vary(spanish) == set() and "public" in spanish["Cache-Control"]
    assert not spanish.cookies


def _vary(response: Any) -> set[str]:
    return {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}


def test_list_and_fact_sheet_are_cached_too(client: Client, project: Project) -> None:
    for url in ("/projects/", f"/projects/{project.slug}/fact-sheet/"):
        assert _get(client, url)[0]["X-Page-Cache"] == "miss"
        assert _get(client, url)[0]["X-Page-Cache"] == "hit"


def test_totals_written_by_raw_sql_show_at_once(client: Client, project: Project) -> None:
    _get(client, project.get_absolute_url())
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE projects_fundingtotals SET raised = 1234, donor_count = 3 "
            "WHERE project_id = %s",
            [project.pk],
        )
    response, html = _get(client, project.get_absolute_url())
    assert response["X-Page-Cache"] == "miss"
    assert "$1,234" in html
    assert _get(client, "/projects/")[1].count("$1,234") >= 1


def test_a_rewrite_of_the_same_totals_keeps_the_cache(client: Client, project: Project) -> None:
    """Every gift rewrites its project's totals row: a write that changes nothing does not
    throw the page away."""
    _get(client, project.get_absolute_url())
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE projects_fundingtotals SET raised = raised + 0 WHERE project_id = %s",
            [project.pk],
        )
    assert _get(client, project.get_absolute_url())[0]["X-Page-Cache"] == "hit"


def test_content_edits_show_at_once(client: Client, project: Project) -> None:
    _get(client, project.get_absolute_url())
    SectionFactory.create(project=project, title="Why here", body="<p>Because.</p>")
    assert "Why here" in _get(client, project.get_absolute_url())[1]
    Section.objects.filter(project=project).update(title="Why this valley")
    assert "Why this valley" in _get(client, project.get_absolute_url())[1]
    Project.objects.filter(pk=project.pk).update(title="Renamed corridor")
    assert "Renamed corridor" in _get(client, "/projects/")[1]


def test_a_new_pool_and_its_projects_show_at_once(client: Client, project: Project) -> None:
    assert "2X The Impact" not in _get(client, project.get_absolute_url())[1]
    pool = _pool(project)
    assert "2X The Impact" in _get(client, project.get_absolute_url())[1]
    pool.projects.clear()
    assert "2X The Impact" not in _get(client, project.get_absolute_url())[1]


def test_the_banner_goes_when_its_pool_ends_without_any_write(
    client: Client, project: Project
) -> None:
    """Nothing is written when a pool's window closes: the cached copy lives no longer."""
    _pool(project, ends_at=timezone.now() + timedelta(seconds=2))
    assert "2X The Impact" in _get(client, project.get_absolute_url())[1]
    time.sleep(3.5)
    response, html = _get(client, project.get_absolute_url())
    assert response["X-Page-Cache"] == "miss"
    assert "2X The Impact" not in html


def test_a_gift_shows_in_the_supporters_and_totals(client: Client, project: Project) -> None:
    from projects.models import FundingTotals

    _get(client, project.get_absolute_url())
    DonationFactory.create(
        project=project, amount=Money(Decimal(40), "USD"), donor_name="Dana Newgift", succeeded=True
    )
    # The lifecycle moves the totals in the same transaction as the gift.
    FundingTotals.objects.filter(project=project).update(raised=Decimal(40), donor_count=1)
    html = _get(client, project.get_absolute_url())[1]
    assert "Dana Newgift" in html


def test_language_is_part_of_the_key(settings: Any, client: Client, project: Project) -> None:
    settings.LANGUAGES = [("en", "English"), ("es", "Español")]
    settings.LANGUAGE_CODE = "en"
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[:3],
        "django.middleware.locale.LocaleMiddleware",
        *settings.MIDDLEWARE[3:],
    ]
    url = project.get_absolute_url()
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en")["X-Page-Cache"] == "miss"
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="en")["X-Page-Cache"] == "hit"
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="es")["X-Page-Cache"] == "miss"
    assert client.get(url, HTTP_ACCEPT_LANGUAGE="es")["X-Page-Cache"] == "hit"


def test_visitors_with_a_session_and_query_strings_are_never_cached(
    client: Client, project: Project
) -> None:
    StaffFactory.create(username="boss", password="a-boss-pass-9911", superuser=True)
    staff = Client()
    admin_login(staff, "boss", "a-boss-pass-9911")
    for _ in range(2):
        response, html = _get(staff, project.get_absolute_url())
        assert "X-Page-Cache" not in response
        assert "X-Accel-Expires" not in response
        assert DETAIL_TOKEN.findall(html)[0]  # a real token, rendered for this session
    for _ in range(2):
        response, _html = _get(client, project.get_absolute_url() + "?gift=100")
        assert "X-Page-Cache" not in response


def test_a_draft_preview_is_never_shared(client: Client, make_project: Any) -> None:
    draft = make_project(status=Project.Status.DRAFT, slug="secret-draft")
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_token_from_csrf_endpoint_lets_the_cached_form_post(project: Project) -> None:
    browser = Client(enforce_csrf_checks=True)
    _get(browser, project.get_absolute_url())
    assert not browser.cookies.get("csrftoken")
    reply = browser.get("/csrf/")
    assert reply.status_code == 200
    assert "no-store" in reply["Cache-Control"]
    token = reply.json()["token"]
    assert browser.cookies["csrftoken"].value
    response = browser.post(
        f"/projects/{project.slug}/donate/",
        {
            "csrfmiddlewaretoken": token,
            "preset": "50",
            "currency": "USD",
            "frequency": "one_time",
            "donor_name": "Ana Quispe",
            "donor_email": "ana@example.org",
        },
    )
    assert response.status_code == 303


def test_without_javascript_the_second_press_goes_through(project: Project) -> None:
    browser = Client(enforce_csrf_checks=True)
    _get(browser, project.get_absolute_url())
    gift = {
        "preset": "other",
        "custom_amount": "75",
        "currency": "USD",
        "frequency": "one_time",
        "donor_name": "Ana Quispe",
        "donor_email": "ana@example.org",
    }
    refused = browser.post(f"/projects/{project.slug}/donate/", {**gift, "csrfmiddlewaretoken": ""})
    assert refused.status_code == 403
    html = refused.content.decode()
    assert "press Donate once more" in html
    assert 'value="Ana Quispe"' in html and 'value="75"' in html  # nothing to type again
    assert not Donation.objects.exists()
    token = DETAIL_TOKEN.findall(html)[0]
    assert token
    response = browser.post(
        f"/projects/{project.slug}/donate/", {**gift, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 303
    assert Donation.objects.get().amount == Money(75, "USD")


def test_without_javascript_mistakes_are_shown_with_the_second_press(project: Project) -> None:
    browser = Client(enforce_csrf_checks=True)
    refused = browser.post(
        f"/projects/{project.slug}/donate/",
        {"preset": "50", "currency": "USD", "frequency": "one_time", "donor_email": "a@b.org"},
    )
    assert refused.status_code == 403
    html = refused.content.decode()
    assert "press Donate once more" in html and "This field is required." in html


def test_other_csrf_failures_get_djangos_403(client: Client) -> None:
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/admin/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "CSRF" in response.content.decode()
