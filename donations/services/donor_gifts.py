"""A donor's gifts for My gifts: the gifts of one email address, their matches, and the
financial years a statement exists for (the statements are the finance desk's,
donations/services/statements.py)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.utils import translation
from django.utils.translation import gettext
from djmoney.money import Money

from donations.models import Donation, MatchAllocation
from donations.services.signin import VISIBLE_STATUSES, email_normalise
from donations.services.statements import STATEMENT_STATUSES, Statement, financial_year_of
from donations.spreadsheet_safety import cell_text

MY_GIFTS_LIMIT = 500


def donor_gifts(email: str) -> QuerySet[Donation]:
    """The address's gifts, newest first, with project and match ledger in two queries more
    (the (donor_email, created_at) index serves the filter and the order)."""
    return (
        Donation.objects.filter(donor_email=email_normalise(email), status__in=VISIBLE_STATUSES)
        .select_related("project")
        .prefetch_related(
            Prefetch("match_allocations", queryset=MatchAllocation.objects.order_by("id"))
        )
        .order_by("-created_at")
    )


def gift_match(d: Donation) -> Money | None:
    """The live match of a gift, from its prefetched ledger rows (None when unmatched)."""
    total = sum((a.amount for a in d.match_allocations.all()), Decimal(0))
    return Money(total, d.project.currency) if total > 0 else None


def donor_years(gifts: list[Donation]) -> list[int]:
    """The financial years (their starting year) with a gift a statement counts."""
    years = {
        financial_year_of(d.succeeded_at)
        for d in gifts
        if d.succeeded_at and d.status in STATEMENT_STATUSES
    }
    return sorted(years, reverse=True)


def statement_language(email: str, year_gifts: list[Donation]) -> str:
    """A statement is written in the language of the donor's latest gift in it."""
    return year_gifts[-1].language if year_gifts else (translation.get_language() or "en")


def statement_csv(statement: Statement, language: str) -> str:
    """A statement as CSV (for a spreadsheet or a tax program), headings in its language;
    amounts as plain decimals with their currency code; the project's title and the
    reference as cells that cannot run (an editor writes the title)."""
    out = io.StringIO()
    writer = csv.writer(out)
    with translation.override(language):
        writer.writerow(
            [gettext("Date"), gettext("Project"), gettext("Gift reference"), gettext("Amount"),
             gettext("Currency"), gettext("Note")]
        )  # fmt: skip
        for line in statement.lines:
            writer.writerow(
                [
                    line.date.isoformat(),
                    cell_text(str(line.project)),
                    cell_text(str(line.reference)),
                    f"{Decimal(line.amount.amount):f}",
                    str(line.amount.currency),
                    gettext("monthly") if line.kind == "monthly" else "",
                ]
            )
        for total in statement.totals:
            writer.writerow(
                [gettext("Total"), "", "", f"{Decimal(total.amount):f}", str(total.currency), ""]
            )
    return out.getvalue()
