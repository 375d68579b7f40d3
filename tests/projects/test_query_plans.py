"""Every query a public page makes can be served without reading the whole donations table.

Read from PostgreSQL's plans, not from timings: with ``enable_seqscan`` off the planner still
chooses a sequential scan when no index can serve a query, so a "Seq Scan on
donations_donation" in any plan means a page whose cost grows with the number of gifts; so
does an index read end to end, or a scan that passes over many rows to find a few. The
finance admin's list and searches are held to the same rule (tests/donations/test_admin_scale.py
uses the helpers here).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from djmoney.money import Money

from donations.models import Donation
from donations.services.seed import gifts_seed
from projects.models import Project
from tests.factories import MatchingPoolFactory

TABLES = ("donations_donation", "donations_matchallocation")
# Enough gifts (made with SQL in well under a second) that the planner weighs the table as
# it would in production: on a table of a few rows any plan is as cheap as any other.
MANY = 20_000


def gifts(project: Project, n: int) -> list[Donation]:
    now = timezone.now()
    return Donation.objects.bulk_create(
        Donation(
            project=project,
            amount=Money(Decimal(10 + i), "USD"),
            donor_name=f"Donor Number{i}",
            donor_email=f"donor{i}@example.org",
            status=Donation.Status.SUCCEEDED if i % 3 else Donation.Status.PENDING,
            counted=Decimal(10 + i) if i % 3 else Decimal(0),
            succeeded_at=now - timedelta(minutes=i) if i % 3 else None,
            payment_intent_id=f"pi_plan_{i}",
            charge_id=f"ch_plan_{i}",
            checkout_session_id=f"cs_plan_{i}",
        )
        for i in range(n)
    )


def queries_of(client: Client, urls: Iterable[str]) -> list[str]:
    """The SQL each page runs when rendered afresh (the page cache emptied first)."""
    found: list[str] = []
    for url in urls:
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, url
        found += [q["sql"] for q in ctx.captured_queries]
    return found


# A scan may pass over this many rows it does not return (an index walked in order under a
# LIMIT, filtering a little); more means the query's cost grows with the table.
ROWS_SKIPPED_AT_MOST = 1_000


def _whole_table_reads(node: dict[str, Any], tables: tuple[str, ...], limited: bool) -> list[str]:
    """Scan nodes that read one of the tables through and through: a sequential scan, an
    index walked without a condition unless a LIMIT above stops it, or any scan that passed
    over more than ROWS_SKIPPED_AT_MOST rows to find the ones it returned."""
    found: list[str] = []
    kind = node.get("Node Type", "")
    relation = node.get("Relation Name")
    if relation in tables:
        skipped = node.get("Rows Removed by Filter", 0) * node.get("Actual Loops", 1)
        if kind == "Seq Scan":
            found.append(f"{kind} on {relation}")
        elif kind in {"Index Scan", "Index Only Scan"} and "Index Cond" not in node and not limited:
            found.append(f"{kind} on {relation} without a condition or a LIMIT")
        elif skipped > ROWS_SKIPPED_AT_MOST:
            found.append(f"{kind} on {relation} passed over {skipped} rows")
    limited = limited or kind == "Limit"
    if kind in {"Sort", "Aggregate", "Hash", "Materialize", "Unique", "Hash Join", "Gather"}:
        limited = False  # these read all their input before a LIMIT above sees a row
    for child in node.get("Plans", []):
        found += _whole_table_reads(child, tables, limited)
    return found


def seq_scans(queries: Iterable[str], tables: Iterable[str] = TABLES) -> dict[str, list[str]]:
    """{query: what reads the table} for each query whose plan, run (EXPLAIN ANALYZE, so the
    rows a filter passed over are counted) with sequential scans priced out, still reads one
    of the tables in full or nearly: only a query no index serves keeps a sequential scan."""
    names = tuple(tables)
    bad: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for logged in queries:
                # django-pghistory's context, when a request carries it, leads the statement.
                sql = re.sub(r"^SELECT set_config\(.*?true\);\s*", "", logged, flags=re.S)
                if not any(t in sql for t in names):
                    continue
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
                raw = cursor.fetchone()[0]
                plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
                reads = _whole_table_reads(plan, names, limited=False)
                if reads:
                    bad[sql] = reads
        finally:
            cursor.execute("RESET enable_seqscan")
    return bad


def test_public_pages_never_scan_the_donations_table(
    client: Client, project: Project, make_project: Any
) -> None:
    other = make_project(title="Other", slug="other")
    gifts(project, 30)
    gifts_seed(project, MANY)
    MatchingPoolFactory.create(
        projects=[project, other], ends_at=timezone.now() + timedelta(days=1)
    )
    donation = Donation.objects.filter(status="succeeded").first()
    assert donation is not None
    urls = [
        "/projects/",
        project.get_absolute_url(),
        project.get_absolute_url() + "?gift=120",
        f"/projects/{project.slug}/fact-sheet/",
        other.get_absolute_url(),
        f"/donations/{donation.pk}/thanks/",
        f"/donations/{donation.pk}/status.json",
    ]
    queries = queries_of(client, urls)
    assert any("donations_donation" in q for q in queries)  # the check below has work to do
    assert seq_scans(queries) == {}


def test_the_check_finds_a_query_no_index_serves(project: Project) -> None:
    """The control: the same check flags a query that must read every gift."""
    gifts(project, 5)
    with CaptureQueriesContext(connection) as ctx:
        list(Donation.objects.filter(message__contains="x"))
    unindexed = ctx.captured_queries[0]["sql"]
    assert unindexed in seq_scans([unindexed])
