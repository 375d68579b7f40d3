"""The finance dashboard: its figures are the ledger export's sums, per kind; Finance sees
it, an Editor is refused."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

from django.core.management import call_command
from django.test import Client

from finance.services.dashboard import COLUMNS, dashboard_build


def test_dashboard_figures_equal_the_ledger_exports_sums(
    books: dict[str, Any],
    finance_client: Client,
    editor_client: Client,
) -> None:
    out = io.StringIO()
    call_command("export_ledger", "-o", "-", stdout=out)
    ledger = list(csv.DictReader(io.StringIO(out.getvalue())))
    from_export: dict[str, Decimal] = {}
    for name, (column, kinds) in COLUMNS.items():
        field = "project_amount" if column == "project_amount" else "settled"
        from_export[name] = sum(
            (Decimal(r[field] or 0) for r in ledger if r["kind"] in kinds), Decimal(0)
        )
    board = dashboard_build()
    assert board.totals == from_export
    assert board.totals["gross"] > 0 and board.totals["fees"] < 0 and board.totals["refunds"] < 0
    assert board.totals["matched"] > 0
    assert (
        board.totals["net"]
        == board.totals["gross"] + board.totals["fees"] + board.totals["refunds"]
    )
    # The net is what the payout paid: the payout's amount.
    assert board.totals["net"] == books["payout"].amount.amount
    assert [p["status"] for p in board.payouts] == ["paid"]
    page = finance_client.get("/admin/donations/financedesk/dashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    shown = dict(re.findall(r'data-total="(\w+)">(-?[\d.]+)<', html))
    assert {k: Decimal(v) for k, v in shown.items()} == from_export
    assert (
        "<svg" in html
        and 'class="bar-gross"' in html
        and "<script" not in html.split("<svg")[1].split("</svg>")[0]
    )
    assert editor_client.get("/admin/donations/financedesk/dashboard/").status_code == 403
    bad = finance_client.get(
        "/admin/donations/financedesk/dashboard/",
        {"date_from": "2026-02-02", "date_to": "2026-02-01"},
    )
    assert bad.status_code == 400 and "The end is before the start." in bad.content.decode()
    empty = finance_client.get(
        "/admin/donations/financedesk/dashboard/",
        {"date_from": "2000-01-01", "date_to": "2000-01-31"},
    )
    assert "No money moved in this period." in empty.content.decode()
