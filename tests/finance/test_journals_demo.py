"""The issue's Done-when as the demo runs it (SQLite, no services): the funded demo paid
out, then `export_journal --journal xero` and `--journal quickbooks` with no other flags
write the importers' layouts, and both pass hledger."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from tests.finance.hledger_books import hledger, quickbooks_ledger, xero_ledger
from tests.finance.test_journals import QUICKBOOKS, XERO

ROOT = Path(__file__).resolve().parents[2]
DEMO_UNSET = ("DATABASE_URL", "REDIS_URL", "STRIPE_SECRET_KEY", "DJANGO_ENV", "CELERY_BROKER_URL")


def _manage(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in DEMO_UNSET and k[:8] != "JOURNAL_"}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        MEDIA_ROOT=str(tmp_path / "media"),
        EXPORT_ROOT=str(tmp_path / "exports"),
        LOG_LEVEL="WARNING",
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,  # the caller asserts on the return code, with the output
    )


def test_the_demos_journals_import_and_balance(tmp_path: Path) -> None:
    x, q = tmp_path / "x.csv", tmp_path / "q.csv"
    for args in (
        ("migrate", "--noinput"),
        ("load_demo", "--funded"),
        ("test_provider_payout",),
        ("export_journal", "--journal", "xero", "-o", str(x)),
        ("export_journal", "--journal", "quickbooks", "-o", str(q)),
    ):
        done = _manage(tmp_path, *args)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    files = sorted(tmp_path.glob("x*.csv"))  # x.csv, x-2.csv, ...: at most 300 lines each
    narrations = set()
    for path in files:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
        assert reader.fieldnames == XERO
        assert 0 < len(rows) <= 300  # Xero's line limit
        narrations |= {r["*Narration"] for r in rows}
        code, report = hledger(xero_ledger(path), tmp_path, path.name + ".journal")
        assert code == 0, report
    assert any(n.startswith("Stripe payout po_") for n in narrations)
    assert any(n.startswith("Matched gifts, month end") for n in narrations)
    with q.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        qb = list(reader)
    assert reader.fieldnames == QUICKBOOKS and qb
    assert any(r["Journal No"].startswith("PAYOUT-") for r in qb)
    code, report = hledger(quickbooks_ledger(q), tmp_path, "q.journal")  # mm/dd/yyyy (US)
    assert code == 0, report
