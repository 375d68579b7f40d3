"""The recipient query, and every query of a fan-out, are served by indexes: read from
PostgreSQL's plans (as tests/projects/test_query_plans.py does for the public pages) over a
table of many gifts, most of them other projects' and some of this one's not succeeded."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from donations.services.seed import gifts_seed
from projects.models import Project
from stewardship import selectors
from stewardship.services.fanout import deliveries_create, deliveries_send_chunk
from tests.factories import ProjectFactory
from tests.projects.test_query_plans import MANY, gifts, seq_scans
from tests.stewardship.helpers import update_make

pytestmark = pytest.mark.django_db
TABLES = ("donations_donation", "stewardship_delivery", "stewardship_updateconsent")


def _plan(sql: str, params: Any) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        raw = cursor.fetchone()[0]
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(n for child in plan.get("Plans", []) for n in _nodes(child))]


def test_the_recipient_query_reads_only_the_projects_gifts(project: Project) -> None:
    gifts_seed(ProjectFactory.create(), MANY)
    gifts_seed(project, 2_000, tag="mine")
    gifts(project, 300)  # a third of them pending: the partial index leaves them out
    qs = (
        selectors.donor_gifts(project)
        .order_by("donor_email", "-created_at")
        .values_list("donor_email", "language")
    )
    sql, params = qs.query.sql_with_params()
    nodes = _nodes(_plan(sql, params))
    # Through an index on the project's gifts, whichever the planner prefers on this table
    # (the recipient index in order, or a bitmap of this project's rows and a sort of those
    # alone): never the other projects' gifts.
    used = {n.get("Index Name") for n in nodes if "Index" in n["Node Type"]}
    assert used, nodes
    assert not any(n["Node Type"] == "Seq Scan" for n in nodes)
    with CaptureQueriesContext(connection) as ctx:
        list(qs)
    assert seq_scans([q["sql"] for q in ctx.captured_queries], ["donations_donation"]) == {}
    assert sum(1 for _ in selectors.recipients(project)) == 2_000 + 200


def test_a_fan_out_never_scans_a_table(project: Project) -> None:
    gifts_seed(ProjectFactory.create(), MANY)
    gifts_seed(project, 500, tag="mine")
    update = update_make(project)
    with CaptureQueriesContext(connection) as ctx:
        selectors.audience_count(project)
        deliveries_create(update=update)
        update.status = "published"
        update.save(update_fields=["status"])
        deliveries_send_chunk(update_id=update.pk, limit=20)
    queries = [q["sql"] for q in ctx.captured_queries]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE stewardship_delivery")
    bad = seq_scans(queries, TABLES)
    assert bad == {}, [(q[-300:], r) for q, r in bad.items()]
