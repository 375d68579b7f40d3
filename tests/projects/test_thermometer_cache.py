"""The project page caches its thermometer fragment; the cache never shows stale figures.

The suite's cache is a real one (Redis with REDIS_URL, else local memory), cleared around
each test by tests/conftest.py.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.test import Client
from djmoney.money import Money

from projects.models import FundingTotals, Project
from tests.projects.conftest import admin_form_data, form_errors

THERMOMETER = "projects/_thermometer.html"


def _by_testid(html: str, testid: str) -> str:
    match = re.search(rf'<(\w+)[^>]*\bdata-testid="{testid}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, testid
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(2))).strip()


def _financial_need(html: str) -> str:
    """The Fast Facts figure, rendered outside the cached fragment."""
    match = re.search(r"<dt>Financial Need</dt><dd>(.*?)</dd>", html)
    assert match
    return match.group(1)


def _get(client: Client, project: Project) -> tuple[str, bool]:
    """The page, and whether the thermometer was rendered afresh (False: from the cache)."""
    response = client.get(project.get_absolute_url())
    assert response.status_code == 200
    rendered = THERMOMETER in [t.name for t in response.templates]
    return response.content.decode(), rendered


def test_thermometer_is_served_from_the_cache_while_nothing_changes(
    client: Client, project: Project
) -> None:
    """The control for the tests below: the fragment really is cached."""
    html, rendered = _get(client, project)
    assert rendered
    assert _by_testid(html, "cost") == "$303,600"
    html, rendered = _get(client, project)
    assert not rendered
    assert _by_testid(html, "cost") == "$303,600"


def test_cost_change_through_the_model_shows_in_the_thermometer(
    client: Client, project: Project
) -> None:
    _get(client, project)
    project.cost = Money(Decimal("400000"), "USD")
    project.save()

    html, rendered = _get(client, project)
    assert rendered
    assert _by_testid(html, "cost") == "$400,000"
    assert _financial_need(html) == "$400,000"
    assert 'data-testid="remaining">$400,000</strong> to go' in html


def test_cost_change_that_skips_updated_at_still_shows(client: Client, project: Project) -> None:
    """A bulk UPDATE (a script, a data migration) leaves updated_at alone: the key names the
    cost itself, not only the row's timestamp."""
    _get(client, project)
    Project.objects.filter(pk=project.pk).update(cost=Decimal("400000"))

    html, rendered = _get(client, project)
    assert rendered
    assert _by_testid(html, "cost") == "$400,000"


def test_cost_change_through_the_admin_shows_in_the_thermometer(
    finance_client: Client, project: Project
) -> None:
    public = Client()
    html, _ = _get(public, project)
    assert _by_testid(html, "cost") == "$303,600"

    url = f"/admin/projects/project/{project.pk}/change/"
    data = admin_form_data(finance_client.get(url).content.decode())
    data["cost_0"] = "400000"
    response = finance_client.post(url, data)
    assert response.status_code == 302, form_errors(response.content.decode())

    html, rendered = _get(public, project)
    assert rendered
    assert _by_testid(html, "cost") == "$400,000"
    assert _financial_need(html) == "$400,000"
    # The list and the fact sheet are not cached: they agree.
    for url in ["/projects/", f"/projects/{project.slug}/fact-sheet/"]:
        assert _by_testid(public.get(url).content.decode(), "cost") == "$400,000", url


def test_currency_change_without_gifts_shows_in_the_thermometer(
    client: Client, project: Project
) -> None:
    _get(client, project)
    project.cost = Money(Decimal("303600"), "EUR")
    project.save()

    html, rendered = _get(client, project)
    assert rendered
    assert _by_testid(html, "cost") == "€303,600"
    assert _by_testid(html, "raised") == "€0"


def test_totals_change_shows_in_the_thermometer(client: Client, project: Project) -> None:
    _get(client, project)
    FundingTotals.objects.filter(project=project).update(raised=Decimal("1000"))

    html, rendered = _get(client, project)
    assert rendered
    assert _by_testid(html, "raised") == "$1,000"


def test_page_without_totals_row_renders_and_caches(client: Client, project: Project) -> None:
    """project.totals.updated_at in the key must not break a project with no totals yet."""
    FundingTotals.objects.filter(project=project).delete()
    project = Project.objects.get(pk=project.pk)
    html, rendered = _get(client, project)
    assert rendered
    assert _by_testid(html, "raised") == "$0"
    _, rendered = _get(client, project)
    assert not rendered
