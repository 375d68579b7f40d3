"""One accounting journal entry, whatever system it is written for: a date, a narration (the
journal's name), a number for QuickBooks, a currency and balanced lines, each on an account
(by the ledger kind it stands for: settings' JOURNAL_ACCOUNTS codes for Xero,
JOURNAL_ACCOUNT_NAMES for QuickBooks) with a description a person reads and its project."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings

CENT = Decimal("0.01")

# What each kind of line is called in the books: never a raw code.
LABELS = {
    "gift": "Gifts",
    "refund": "Refunds",
    "refund_failed": "Failed refunds (money back)",
    "dispute_withdrawal": "Disputes",
    "dispute_reinstatement": "Disputes won (money back)",
    "dispute_fee": "Dispute fees",
    "fee": "Stripe fees",
    "adjustment": "Adjustments",
    "other": "Stripe lines not tied to a gift",
}


def account_code(kind: str) -> str:
    accounts = settings.JOURNAL_ACCOUNTS
    return str(accounts.get(kind) or accounts["other"])


def account_name(kind: str) -> str:
    names = settings.JOURNAL_ACCOUNT_NAMES
    return str(names.get(kind) or names["other"])


def label(kind: str, project: str = "") -> str:
    """The line's kind in words, and its project: "Gifts, Andes-Amazon Corridor"."""
    words = LABELS.get(kind, LABELS["other"])
    return f"{words}, {project}" if project else words


@dataclass(frozen=True)
class Line:
    description: str
    kind: str  # the ledger kind (or bank, pledges, offline_bank): chooses the account
    amount: Decimal  # signed: + debit, - credit
    project: str = ""


@dataclass
class Entry:
    number: str  # QuickBooks' Journal No (at most 21 characters)
    narration: str  # Xero's narration: the same on every line of the journal
    day: date
    currency: str
    lines: list[Line] = field(default_factory=list)

    def add(self, description: str, kind: str, amount: Decimal, project: str = "") -> None:
        self.lines.append(Line(description, kind, amount.quantize(CENT), project))

    @property
    def balanced(self) -> bool:
        return sum((line.amount for line in self.lines), Decimal(0)) == 0

    def merged(self) -> Entry:
        """The same entry with lines of the same description, account and project added
        together (lines that add up to nothing dropped), in a stable order."""
        sums: dict[tuple[str, str, str], Decimal] = {}
        for line in self.lines:
            key = (line.kind, line.description, line.project)
            sums[key] = sums.get(key, Decimal(0)) + line.amount
        lines = [Line(d, k, a, p) for (k, d, p), a in sums.items() if a]
        return Entry(self.number, self.narration, self.day, self.currency, lines)
