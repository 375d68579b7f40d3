"""Serial numbers of receipts and statements: unique in their financial year, without gaps
(tax authorities, e.g. the Canada Revenue Agency, require a unique serial number on each
official receipt).

A number is taken from its year's counter row in the transaction that issues the document,
and written in it: the upsert below locks that row until commit, so two documents issued at
once wait for each other and never share a number, and a transaction that rolls back takes
its number back with it (no gap).

A gift's receipt number is issued when its receipt is (``receipt_number_issue``: the
receipt task before it builds the email, finance's re-send, the donor's print page), in a
short transaction of its own that locks the gift and the counter and writes the number,
never in the gift's success: every number in a year is serialised on the counter row, and a
success holding it would make gifts to every project queue behind each other. Offline gifts
(a desk action) and statements (their first sending) still number in their own transaction.
Lock order: donation, counter.
"""

from __future__ import annotations

from uuid import UUID

from django.db import connection, transaction

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


# Gifts that have (or had) an official receipt: paid, whatever happened after.
NUMBERED = {
    Donation.Status.SUCCEEDED,
    Donation.Status.PARTIALLY_REFUNDED,
    Donation.Status.DISPUTED,
    Donation.Status.REFUNDED,
}


def receipt_number_issue(*, donation_id: UUID | str) -> str:
    """The gift's receipt number, issued now if it has none (once: idempotent, also when two
    runs race). Its own short transaction: call it outside any other, before the receipt is
    built, so the counter's lock is held for this write alone. "" for a gift that was never
    paid (or no such gift)."""
    try:
        pk = UUID(str(donation_id))
    except ValueError:
        return ""
    seen = Donation.objects.filter(pk=pk).values_list("receipt_number", "status").first()
    if seen is None or seen[0] or seen[1] not in NUMBERED:
        return seen[0] if seen else ""
    with transaction.atomic():
        # The gift's row first (lock order: donation, counter): a second run waits here and
        # then finds the number, so a gift never takes two.
        d = Donation.objects.select_for_update(of=("self",)).filter(pk=pk).first()
        if d is None or d.status not in NUMBERED or d.succeeded_at is None:
            return d.receipt_number if d else ""
        if not d.receipt_number:
            receipt_number_assign(d)
            Donation.objects.filter(pk=pk, receipt_number="").update(
                receipt_number=d.receipt_number
            )
        return d.receipt_number


def receipt_number_assign(d: Donation) -> str:
    """Give a paid gift its receipt number (once; saved by the caller with the gift, in the
    same transaction, which holds the counter's lock to commit). The year is the financial
    year it succeeded in."""
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
