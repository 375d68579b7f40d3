"""Serial numbers of receipts and statements: unique in their financial year, without gaps
(tax authorities, e.g. the Canada Revenue Agency, require a unique serial number on each
official receipt).

A number is taken from its year's counter row in the transaction that issues the document
(the gift's success; the statement's first sending): the upsert below locks that row until
commit, so two gifts succeeding at once wait for each other and never share a number, and a
transaction that rolls back takes its number back with it (no gap). The lock is held to the
end of the success's transaction: every success in a year is serialised on it, which is the
price of a gapless sequence. Lock order: donation, counter, donor, pools, totals.
"""

from __future__ import annotations

from django.db import connection

from donations.models import DocumentCounter, Donation
from donations.services.statements import financial_year_of

RECEIPT = DocumentCounter.Kind.RECEIPT
STATEMENT = DocumentCounter.Kind.STATEMENT


def number_take(*, kind: str, year: int) -> int:
    """The next number of ``kind`` in ``year`` (1, 2, ...), its counter row locked to commit."""
    table = DocumentCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (kind, year, last) VALUES (%s, %s, 1) "  # noqa: S608 - the table name is ours
            f"ON CONFLICT (kind, year) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [kind, year],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def receipt_number_assign(d: Donation) -> str:
    """Give a gift that has just succeeded its receipt number (once; saved by the caller with
    the gift, in the same transaction). The year is the financial year it succeeded in."""
    if not d.receipt_number:
        assert d.succeeded_at is not None
        year = financial_year_of(d.succeeded_at)
        d.receipt_number = f"{year}-{number_take(kind=RECEIPT, year=year):06d}"
    return d.receipt_number


def receipt_number_shown(d: Donation) -> str:
    """The number as the receipt prints it: a corrected receipt carries "-C<n>"."""
    if d.receipt_number and d.receipt_corrections:
        return f"{d.receipt_number}-C{d.receipt_corrections}"
    return d.receipt_number


def statement_number_take(*, year: int) -> str:
    return f"{year}-S{number_take(kind=STATEMENT, year=year):06d}"
