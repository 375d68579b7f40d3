"""An independent double-entry check of the journal files: each file converted to a
plain-text hledger journal (one transaction per Xero narration and date, or per QuickBooks
Journal No; postings ``account  amount``) and given to ``hledger check`` and ``hledger
balance``, which refuse any transaction that does not balance. hledger is required (Debian
package ``hledger``; ``.ci/run`` installs it): without it these tests fail, never skip."""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import datetime
from decimal import Decimal
from pathlib import Path


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _posting(account: str, amount: Decimal) -> str:
    return f"    {account.replace('  ', ' ')}  {amount}"


def xero_ledger(path: Path) -> str:
    """Xero's manual journal: positive amounts are debits; dates dd/mm/yyyy (strptime
    refuses anything else)."""
    transactions: dict[tuple[str, str], list[str]] = {}
    for row in _read(path):
        day = datetime.strptime(row["*Date"], "%d/%m/%Y").date()  # noqa: DTZ007 - a date
        key = (day.isoformat(), row["*Narration"])
        transactions.setdefault(key, []).append(
            _posting(row["*AccountCode"], Decimal(row["*Amount"]))
        )
    return "".join(
        f"{day} {narration}\n" + "\n".join(postings) + "\n\n"
        for (day, narration), postings in transactions.items()
    )


def quickbooks_ledger(path: Path, *, date_format: str = "%m/%d/%Y") -> str:
    """QuickBooks' journal entries: one per Journal No, debits and credits in two columns."""
    transactions: dict[str, tuple[str, list[str]]] = {}
    for row in _read(path):
        day = datetime.strptime(row["Journal Date"], date_format).date()  # noqa: DTZ007
        debit = Decimal(row["Debits"] or 0)
        credit = Decimal(row["Credits"] or 0)
        assert not (debit and credit), row  # a line is a debit or a credit
        number = row["Journal No"]
        known_day, postings = transactions.setdefault(number, (day.isoformat(), []))
        assert known_day == day.isoformat(), f"{number} on two dates"
        postings.append(_posting(row["Account Name"], debit - credit))
    return "".join(
        f"{day} Journal {number}\n" + "\n".join(postings) + "\n\n"
        for number, (day, postings) in transactions.items()
    )


def hledger(text: str, tmp_path: Path, name: str = "books.journal") -> tuple[int, str]:
    """Run ``hledger check`` and ``hledger balance`` on the converted journal: (0, the
    balance report) when every transaction balances and the total is 0."""
    exe = shutil.which("hledger")
    assert exe, "hledger is required (apt-get install hledger; .ci/run installs it)"
    journal = tmp_path / name
    journal.write_text(text, encoding="utf-8")
    check = subprocess.run(
        [exe, "-f", str(journal), "check"], capture_output=True, text=True, check=False
    )
    if check.returncode != 0:
        return check.returncode, check.stderr
    balance = subprocess.run(
        [exe, "-f", str(journal), "balance"], capture_output=True, text=True, check=False
    )
    lines = [line.strip() for line in balance.stdout.splitlines() if line.strip()]
    if balance.returncode != 0 or not lines or lines[-1] != "0":
        return balance.returncode or 1, balance.stdout + balance.stderr
    return 0, balance.stdout
