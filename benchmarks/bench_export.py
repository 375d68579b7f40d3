"""The donations CSV export against PostgreSQL's own COPY of the same rows, in one run.

Seeds BENCH_EXPORT_ROWS succeeded gifts (default 1,000,000) with SQL (triggers off while
seeding), each with its gift row in the ledger on one payout and every fourth one matched,
so the export's per-gift lookups (payout, match, pool) all find something. Then, each in a
fresh process so peak memory is its own:

- ``COPY (<the export's own SELECT>) TO STDOUT WITH CSV``: the rows per second the database
  itself reaches for exactly these rows and columns (the baseline);
- the CSV export to a file (``export_runner.export_spec`` + ``write_csv``: the commands and
  the background task; on PostgreSQL it is COPY of the export's SELECT streamed into the
  file, with our header): rows per second, time to the first byte and to the first rows,
  and peak RSS above the same process idle;
- the streamed CSV of the admin's in-request exports (``csv_chunks``: a server-side cursor
  and Python's csv), for comparison;
- the XLSX export (``write_xlsx``: typed cells streamed into the ZIP, see
  ``finance/services/xlsx_stream.py``) of BENCH_XLSX_ROWS of the same rows (default: all of
  them, so at the default size it is the 1M-row figure): rows per second, absolute (aim:
  10,000) and against the CSV's to a file in the same run, and peak RSS of its process
  (aim: under 200 MB, the whole process, Django included).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from benchmarks import common

ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", "1000000"))
XLSX_ROWS = int(os.environ.get("BENCH_XLSX_ROWS", str(ROWS)))


def _seed(rows: int) -> None:
    from django.db import connection
    from djmoney.money import Money

    from donations.models import Donation
    from donations.services.seed import donation_insert_sql
    from projects.models import FundingTotals, Project

    have = Donation.objects.filter(donor_email__startswith="bench").count()
    if have == rows:
        return
    project, _ = Project.objects.get_or_create(
        slug="bench-export",
        defaults={"title": "Bench", "cost": Money(10**9, "USD"), "acres": 1, "status": "published"},
    )
    FundingTotals.objects.get_or_create(
        project=project, defaults={"raised": Money(0, "USD"), "matched": Money(0, "USD")}
    )
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # no triggers while seeding
        try:
            cur.execute(
                "TRUNCATE donations_payoutline, donations_ledgerentry, donations_matchallocation,"
                " donations_donation, donations_payout, donations_matchingpool CASCADE"
            )
            cur.execute(
                """INSERT INTO donations_payout (stripe_id, amount, amount_currency, status, automatic,
                     method, arrival_date, provider_reconciliation, lines_status, line_count,
                     unlinked_count, failure_code, failure_message, created, recorded_at, updated_at)
                   VALUES ('po_bench', 1, 'USD', 'paid', true, 'standard', now(), 'completed',
                     'reconciled', 0, 0, '', '', now(), now(), now()) RETURNING id"""
            )
            payout_id = cur.fetchone()[0]
            # Closed and covering no project: only its allocation rows are exported. An open
            # pool for all projects would match the other benchmarks' gifts.
            cur.execute(
                """INSERT INTO donations_matchingpool (sponsor_name, show_sponsor, cap, cap_currency,
                     ratio, starts_at, ends_at, covers_all_projects, active, allocated, created_at)
                   VALUES ('Bench sponsor', true, 1000000000, 'USD', 1, now() - interval '400 days',
                     now() - interval '1 second', false, false, 0, now()) RETURNING id"""
            )
            pool_id = cur.fetchone()[0]
            # Every column: these computed, the rest at the model's defaults.
            sql, params = donation_insert_sql(
                {
                    "id": "md5(i::text)::uuid",
                    "project_id": str(int(project.pk)),
                    "status": "'succeeded'",
                    "amount": "50",
                    "donor_name": "'Donor ' || i",
                    "donor_email": "'bench' || i || '@example.org'",
                    "payment_intent_id": "'pi_' || i",
                    "charge_id": "'ch_' || i",
                    "balance_transaction_id": "'txn_' || i",
                    "charged": "50",
                    "settled": "50",
                    "stripe_fee": "1.75",
                    "net": "48.25",
                    "refunded": "0",
                    "counted": "50",
                    "created_at": "now() - (i || ' seconds')::interval",
                    "updated_at": "now()",
                    "succeeded_at": "now() - (i || ' seconds')::interval",
                },
                "generate_series(1, %s) AS i",
            )
            cur.execute(sql, [*params, rows])
            cur.execute(
                """INSERT INTO donations_ledgerentry (kind, reference, project_id, donation_id,
                     amount, amount_currency, settled, settled_currency, project_amount,
                     balance_transaction_id, payout_id, occurred_at, recorded_at, note)
                   SELECT 'gift', d.id::text, d.project_id, d.id, 50, 'USD', 50, 'USD', 50,
                     d.balance_transaction_id, %s, d.succeeded_at, now(), ''
                   FROM donations_donation d WHERE d.project_id = %s""",
                [payout_id, project.pk],
            )
            cur.execute(
                """INSERT INTO donations_matchallocation (pool_id, donation_id, kind, amount, note,
                     created_at)
                   SELECT %s, d.id, 'allocate', 50, '', now()
                   FROM donations_donation d WHERE d.project_id = %s AND ascii(d.id::text) %% 4 = 0""",
                [pool_id, project.pk],
            )
        finally:  # triggers back on for this connection, whatever happened
            cur.execute("SET session_replication_role = origin")
        for table in ("donations_donation", "donations_ledgerentry", "donations_matchallocation"):
            cur.execute(f"VACUUM ANALYZE {table}")
    print(f"   seeded {rows:,} gifts in {time.perf_counter() - started:.1f}s", flush=True)


CHILD = r"""
import json, os, resource, sys, time
sys.path.insert(0, os.environ["ROOT"])
import django
django.setup()
from django.db import connection
from finance.services.export_runner import export_spec
from finance.services.export_filters import ExportFilters
from finance.services.export_formats import write_csv, write_xlsx

def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

class Sink:
    def __init__(self):
        self.bytes = 0
        self.first = None
        self.first_rows = None
        self.start = time.perf_counter()
    def write(self, data):
        now = time.perf_counter()
        if self.first is None:
            self.first = now - self.start
        elif self.first_rows is None:
            self.first_rows = now - self.start
        self.bytes += len(data)
        return len(data)
    def flush(self):
        pass

mode = sys.argv[1]
limit = int(sys.argv[2])
spec = export_spec("donations", ExportFilters())
connection.ensure_connection()
with connection.cursor() as c:
    c.execute("SELECT 1")
idle = rss_mb()
sink = Sink()
t0 = time.perf_counter()
if mode == "copy":
    from finance.services.donation_export import donation_columns
    from finance.services.export_formats import values_query
    sql, params = values_query(spec.queryset, donation_columns(), ["succeeded_at", "id"]).query.sql_with_params()
    with connection.cursor() as c:
        query = c.mogrify(sql, params).decode()
        c.copy_expert(f"COPY ({query}) TO STDOUT WITH CSV HEADER", sink)
    rows = limit
elif mode == "csv":
    rows = write_csv(spec, sink)
elif mode == "cursor":
    from finance.services.export_formats import csv_chunks
    rows = -1
    for chunk in csv_chunks(spec):
        sink.write(chunk)
        rows += chunk.count(b"\n")
else:
    spec.row_source = (lambda src: (lambda: (r for i, r in zip(range(limit), src()))))(spec.row_source)
    spec.count = lambda: limit
    rows = write_xlsx(spec, sink, count=limit)
elapsed = time.perf_counter() - t0
print(json.dumps({"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed,
                  "first_byte_ms": (sink.first or 0) * 1000,
                  "first_rows_ms": (sink.first_rows or sink.first or 0) * 1000,
                  "bytes": sink.bytes, "idle_rss_mb": idle, "peak_rss_mb": rss_mb(),
                  "peak_above_idle_mb": rss_mb() - idle}))
"""


def _child(mode: str, limit: int) -> dict[str, Any]:
    env = {**os.environ, **common.server_env(eager=True), "ROOT": str(common.ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(limit)],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(common.ROOT),
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"export benchmark child ({mode}) failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run() -> dict[str, Any]:
    common.django_setup()
    _seed(ROWS)
    copy = _child("copy", ROWS)
    csv_run = _child("csv", ROWS)
    cursor_run = _child("cursor", ROWS)
    xlsx_rows = min(XLSX_ROWS, ROWS)
    xlsx = _child("xlsx", xlsx_rows)
    plan = _plan()
    return {
        "rows": ROWS,
        "copy": copy,
        "csv": csv_run,
        "xlsx": xlsx,
        "cursor": cursor_run,
        "cursor_vs_copy": round(cursor_run["rows_per_s"] / copy["rows_per_s"], 3),
        "csv_vs_copy": round(csv_run["rows_per_s"] / copy["rows_per_s"], 3),
        "xlsx_vs_csv": round(xlsx["rows_per_s"] / csv_run["rows_per_s"], 3),
        "xlsx_rows": xlsx_rows,
        "xlsx_rows_per_s": round(xlsx["rows_per_s"]),
        "xlsx_peak_rss_mb": round(xlsx["peak_rss_mb"], 1),
        "xlsx_peak_above_idle_mb": round(xlsx["peak_above_idle_mb"], 1),
        "csv_peak_above_idle_mb": round(csv_run["peak_above_idle_mb"], 1),
        "csv_first_byte_ms": round(csv_run["first_byte_ms"], 1),
        "csv_first_rows_ms": round(csv_run["first_rows_ms"], 1),
        "plan_filtered_month": plan,
    }


def _plan() -> str:
    """The query plan of a one-month filtered export at this size (index, not a scan)."""
    from datetime import timedelta

    from django.utils import timezone

    from finance.services.donation_export import donation_columns, donations_queryset
    from finance.services.export_filters import filters_parse
    from finance.services.export_formats import values_query

    day = timezone.localdate() - timedelta(days=3)
    f = filters_parse(date_from=day.isoformat(), date_to=day.isoformat())
    qs = values_query(donations_queryset(f), donation_columns(), ["succeeded_at", "id"])
    return str(qs.explain())
