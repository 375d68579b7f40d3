"""Finance's donations admin at scale: search finds by the shape of the term, each search and
the list itself is served by an index (read from the plans, as for the public pages), and
the count is an estimate once it is large."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from donations import admin_scale
from donations.models import Donation
from donations.services.seed import gifts_seed
from projects.models import Project
from tests.conftest import admin_login
from tests.factories import StaffFactory, WebhookEventFactory
from tests.projects.test_query_plans import MANY, gifts, seq_scans

CHANGELIST = "/admin/donations/donation/"


@pytest.fixture
def finance(db: None, settings: Any) -> Client:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    StaffFactory.create(username="finance", password="finance-pass-5521", superuser=True)
    client = Client()
    admin_login(client, "finance", "finance-pass-5521")
    return client


def _found(client: Client, term: str, url: str = CHANGELIST) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, {"q": term})
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in ctx.captured_queries]


def test_search_by_each_kind_of_term(finance: Client, project: Project) -> None:
    made = gifts(project, 12)
    cases = {
        "pi_plan_4": "Donor Number4<",
        "ch_plan_5": "Donor Number5<",
        "cs_plan_6": "Donor Number6<",
        str(made[7].pk): "Donor Number7<",
        "DONOR8@Example.org": "Donor Number8<",  # email: any case, exact
        "number9": "Donor Number9<",  # name: any part, any case
        "21.00": "Donor Number11<",  # an amount, as finance types it
        "2026-000042": "Donor Number10<",  # a receipt number
        "2026-000042-c1": "Donor Number10<",  # a corrected receipt's number
    }
    Donation.objects.filter(pk=made[10].pk).update(receipt_number="2026-000042")
    for term, shown in cases.items():
        html, _ = _found(finance, term)
        assert shown in html, term
        assert html.count('class="field-created_at') == 1, term
    html, _ = _found(finance, "nobody@example.org")
    assert html.count('class="field-created_at') == 0
    html, _ = _found(finance, "Do")
    assert "three or more letters" in html
    assert html.count('class="field-created_at') == 0


def test_no_email_search_without_the_contact_permission(
    finance: Client, project: Project, settings: Any
) -> None:
    from django.contrib.auth.models import Permission

    gifts(project, 3)
    clerk = StaffFactory.create(username="clerk", password="clerk-pass-77123")
    clerk.user_permissions.add(Permission.objects.get(codename="view_donation"))
    assert not clerk.has_perm("donations.view_donor_contact")
    client = Client()
    admin_login(client, "clerk", "clerk-pass-77123")
    html, _ = _found(client, "donor1@example.org")
    assert html.count('class="field-created_at') == 0
    html, _ = _found(client, "pi_plan_1")
    assert html.count('class="field-created_at') == 1


def test_list_filters_and_searches_never_scan_the_table(finance: Client, project: Project) -> None:
    gifts(project, 40)
    # More than the public pages' test: the name search's trigram index must win clearly
    # over walking the created_at index (whose cost grows with the table), as at 1,000,000.
    gifts_seed(project, 3 * MANY)
    queries: list[str] = []
    for params in [
        {},
        {"q": "pi_plan_3"},
        {"q": "ch_plan_3"},
        {"q": "cs_plan_3"},
        {"q": "donor3@example.org"},
        {"q": "Number3"},
        {"q": "25.00"},
        {"q": "1,025.00"},
        {"q": "2026-000123"},
        {"paid_from": "2026-01-01"},
        {"paid_from": "2026-01-01", "paid_to": "2026-01-31"},
        {"status__exact": "succeeded"},
        {"created_at__gte": "2020-01-01 00:00:00+00:00"},
    ]:
        with CaptureQueriesContext(connection) as ctx:
            assert finance.get(CHANGELIST, params).status_code == 200
        queries += [q["sql"] for q in ctx.captured_queries]
    # No date drill-down over every row, no full count of the table.
    assert not any("DATE_TRUNC" in q.upper() or "DISTINCT" in q.upper() for q in queries)
    bad = seq_scans(queries)
    assert bad == {}, [(q[-400:], r) for q, r in bad.items()]


def test_webhook_event_search_uses_the_unique_index(finance: Client) -> None:
    WebhookEventFactory.create(stripe_id="evt_findme", payload={})
    WebhookEventFactory.create(stripe_id="evt_other", payload={})
    html, queries = _found(finance, "evt_findme", "/admin/donations/webhookevent/")
    assert "evt_findme" in html and "evt_other" not in html
    assert seq_scans(queries, ["donations_webhookevent"]) == {}


def test_large_counts_are_estimates_small_ones_exact(project: Project, monkeypatch: Any) -> None:
    gifts(project, 30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE donations_donation")  # statistics outlive other tests' rows
    exact = admin_scale.EstimatedCountPaginator(Donation.objects.all(), 10)
    assert exact.count == 30
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE donations_donation")
    monkeypatch.setattr(admin_scale, "EXACT_COUNT_UP_TO", 5)
    estimated = admin_scale.EstimatedCountPaginator(Donation.objects.all(), 10)
    with CaptureQueriesContext(connection) as ctx:
        figure = estimated.count
    assert ctx.captured_queries[0]["sql"].startswith("EXPLAIN")
    assert not any("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)
    assert 20 <= figure <= 40  # the planner's estimate, after ANALYZE: near the real 30


@pytest.mark.parametrize(
    "admin_class",
    ["LedgerEntryAdmin", "PayoutAdmin", "PayoutLineAdmin", "WebhookEventAdmin"],
)
@pytest.mark.parametrize("term", ["pi_x1", "txn_1Q2w3e", "po_1Abc", str(uuid.uuid4())])
def test_ledger_payout_and_inbox_searches_use_an_index_per_field(
    admin_class: str, term: str, finance: Client
) -> None:
    """Each list's search is an exact match per search field, OR-ed, each branch on one
    table's index (a related row's id is looked up first): read from the plan."""
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    from donations import admin as donations_admin

    # The registered admin may be a finance-desk subclass (FinancePayoutAdmin): search is kept.
    base = getattr(donations_admin, admin_class)
    model_admin = next(a for a in django_admin.site._registry.values() if isinstance(a, base))
    request = RequestFactory().get("/", {"q": term})
    request.user = User.objects.get(username="finance")
    queryset, duplicates = model_admin.get_search_results(
        request, model_admin.model._default_manager.all(), term
    )
    assert not duplicates
    with CaptureQueriesContext(connection) as ctx:
        list(queryset.order_by().values_list("pk", flat=True))
    table = model_admin.model._meta.db_table
    assert seq_scans([q["sql"] for q in ctx.captured_queries], [table]) == {}
