"""Page versions per page, not per site (issue 19): a gift to one project changes only that
project's page (and the list's figures); content and pools bump the pages that show them;
and no gift's transaction waits on a row that gifts to other projects write.

Through the real page views (the X-Page-Cache header) and the lifecycle's success path."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone
from djmoney.money import Money

from donations.models import Donation, MatchingPool
from projects.models import KeySpecies, Project
from tests.donations.matching_helpers import gift, pool_open, succeed


def _page(url: str) -> tuple[str, str]:
    response = Client().get(url)
    assert response.status_code == 200, url
    return response["X-Page-Cache"], response.content.decode()


def _two(make_project: Any) -> tuple[Project, Project]:
    return make_project(slug="andes", title="Andes"), make_project(slug="borneo", title="Borneo")


def _fill(*projects: Project) -> None:
    """Every page of these projects (and the list) in the cache."""
    for p in projects:
        for url in (p.get_absolute_url(), f"{p.get_absolute_url()}fact-sheet/"):
            _page(url)
            assert _page(url)[0] == "hit"
    _page("/projects/")
    assert _page("/projects/")[0] == "hit"


def test_a_gift_to_b_leaves_a_cached_and_shows_on_b_and_the_list(make_project: Any) -> None:
    a, b = _two(make_project)
    _fill(a, b)
    succeed(gift(b, "1234", donor_name="Dana Newgift"))  # the lifecycle's success path
    assert _page(a.get_absolute_url())[0] == "hit"
    assert _page(f"{a.get_absolute_url()}fact-sheet/")[0] == "hit"
    state, html = _page(b.get_absolute_url())
    assert state == "miss"
    assert "$1,234" in html and "Dana Newgift" in html
    assert _page(f"{b.get_absolute_url()}fact-sheet/")[0] == "miss"
    state, html = _page("/projects/")
    assert state == "miss"
    assert "$1,234" in html


def test_a_content_edit_of_a_invalidates_a_and_the_list_only(make_project: Any) -> None:
    a, b = _two(make_project)
    _fill(a, b)
    KeySpecies.objects.create(project=a, common_name="Spectacled bear", iucn_category="VU")
    state, html = _page(a.get_absolute_url())
    assert state == "miss" and "Spectacled bear" in html
    assert _page(b.get_absolute_url())[0] == "hit"
    Project.objects.filter(pk=a.pk).update(title="Andes corridor")  # a bulk update too
    state, html = _page("/projects/")
    assert state == "miss" and "Andes corridor" in html
    assert _page(b.get_absolute_url())[0] == "hit"


def test_a_new_project_shows_on_the_list(make_project: Any) -> None:
    a, _b = _two(make_project)
    _fill(a)
    make_project(slug="congo", title="Congo basin")
    state, html = _page("/projects/")
    assert state == "miss" and "Congo basin" in html


def test_pools_bump_the_pages_they_show_on(make_project: Any) -> None:
    a, b = _two(make_project)
    ends = timezone.now() + timedelta(days=1)
    own = pool_open(a, "5000", ends_at=ends)
    _fill(a, b)
    MatchingPool.objects.filter(pk=own.pk).update(sponsor_name="Andes Trust")
    state, html = _page(a.get_absolute_url())
    assert state == "miss" and "Andes Trust" in html
    assert _page(b.get_absolute_url())[0] == "hit"  # the pool does not cover B
    everywhere = pool_open(None, "9000", covers_all_projects=True, sponsor_name="Every Fund")
    assert "Every Fund" in _page(b.get_absolute_url())[1]
    _fill(a, b)
    # A gift that the all-projects pool matches moves its remaining figure, which the
    # pages' live script shows: the other project's cached copy stays.
    succeed(gift(b, "100"))
    assert MatchingPool.objects.get(pk=everywhere.pk).allocated > 0
    assert _page(a.get_absolute_url())[0] == "hit"
    assert _page(b.get_absolute_url())[0] == "miss"
    # Spent: the banner goes from every page it was on.
    _fill(a, b)
    MatchingPool.objects.filter(pk=own.pk).update(active=False)
    MatchingPool.objects.filter(pk=everywhere.pk).update(allocated=Money(9000, "USD").amount)
    for p in (a, b):
        state, html = _page(p.get_absolute_url())
        assert state == "miss" and "Every Fund" not in html


@pytest.mark.django_db(transaction=True)
def test_gifts_to_two_projects_do_not_wait_for_each_other(make_project: Any) -> None:
    """One gift's success transaction is held open (its totals, page version, ledger rows
    written, not committed); a gift to another project succeeds and commits meanwhile."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks between connections")
    a, b = _two(make_project)
    first, second = gift(a, "50"), gift(b, "70")
    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold_a() -> None:
        try:
            with transaction.atomic():
                succeed(first)
                holding.set()
                release.wait(30)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def pay_b() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '10s'")  # fail, not hang, if it waits
            succeed(second)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_a)
    holder.start()
    try:
        assert holding.wait(20)
        payer = threading.Thread(target=pay_b)
        payer.start()
        payer.join(8)
        finished_while_held = not payer.is_alive()
    finally:
        release.set()
        holder.join(30)
    payer.join(30)
    assert not errors, errors
    assert finished_while_held, "the gift to B waited for the gift to A's transaction"
    succeeded = Donation.objects.filter(status=Donation.Status.SUCCEEDED)
    assert set(succeeded.values_list("pk", flat=True)) == {first.pk, second.pk}
