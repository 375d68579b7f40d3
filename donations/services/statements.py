"""Year-end giving statements: one donor's gifts in one financial year, with the tax
acknowledgement. ``statement_build`` is the reusable part (the finance desk's statement run,
``finance/services/statement_runs.py``, and the donor's own self-service pages both call it); ``statement_render`` makes the email
and the printable page from it.

A financial year is named by the calendar year it starts in; its first month comes from
``FINANCIAL_YEAR_START_MONTH`` (1 = January: the financial year is the calendar year).
Boundaries are midnight in the charity's ``TIME_ZONE``.

Which gifts: every gift that succeeded in the year (Stripe's time of payment), by the
donor's email (case-insensitive), at what the donor paid us and kept paid: Stripe's charge,
including a processing fee the donor chose to cover, less refunds. Fully refunded gifts,
gifts under an open or lost dispute, and failed or pending ones are left out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext
from djmoney.money import Money

from donations.models import Donation

S = Donation.Status
STATEMENT_STATUSES = (S.SUCCEEDED, S.PARTIALLY_REFUNDED)


def _zone() -> ZoneInfo:
    return ZoneInfo(str(settings.TIME_ZONE))


def financial_year_bounds(year: int) -> tuple[datetime, datetime]:
    """[start, end) of the financial year that starts in ``year``, as aware datetimes."""
    month = int(settings.FINANCIAL_YEAR_START_MONTH)
    zone = _zone()
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + 1, month, 1, tzinfo=zone)
    return start, end


def financial_year_label(year: int) -> str:
    if int(settings.FINANCIAL_YEAR_START_MONTH) == 1:
        return str(year)
    return f"{year}–{str(year + 1)[-2:]}"


def financial_year_of(moment: datetime) -> int:
    local = moment.astimezone(_zone())
    month = int(settings.FINANCIAL_YEAR_START_MONTH)
    return local.year if local.month >= month else local.year - 1


@dataclass(frozen=True)
class StatementLine:
    date: date
    project: str
    amount: Money
    reference: str
    kind: str  # "one-time", "monthly", or an offline method


@dataclass
class Statement:
    donor_name: str
    donor_email: str
    year: int
    label: str
    start: date
    end: date  # the last day of the year
    lines: list[StatementLine] = field(default_factory=list)
    organisation: str = ""
    registration: str = ""
    acknowledgement: str = ""
    language: str = "en"  # of the donor's latest gift in the year: the statement's language
    number: str = ""  # its serial number in the year, once sent (StatementSent.number)

    @property
    def totals(self) -> list[Money]:
        """One total per currency, in currency order."""
        sums: dict[str, Decimal] = defaultdict(Decimal)
        for line in self.lines:
            sums[str(line.amount.currency)] += Decimal(line.amount.amount)
        return [Money(amount, currency) for currency, amount in sorted(sums.items())]

    @property
    def is_empty(self) -> bool:
        return not self.lines


def _paid(d: Donation) -> Money:
    """What the donor paid and was not refunded, in the currency they paid in."""
    if d.charged is None:
        return d.amount + d.fee_covered
    kept = Decimal(d.charged.amount) - Decimal(d.refunded.amount)
    return Money(max(kept, Decimal(0)), d.charged.currency)


def year_gifts(year: int) -> Q:
    start, end = financial_year_bounds(year)
    return Q(status__in=STATEMENT_STATUSES, succeeded_at__gte=start, succeeded_at__lt=end)


def statement_build(*, donor_email: str, year: int) -> Statement:
    """One donor's statement for the financial year starting in ``year``."""
    start, end = financial_year_bounds(year)
    email = donor_email.strip().lower()
    gifts = (
        Donation.objects.annotate(email_lower=Lower("donor_email"))
        .filter(year_gifts(year), email_lower=email)
        .select_related("project")
        .order_by("succeeded_at", "id")
    )
    zone = _zone()
    statement = Statement(
        donor_name="",
        donor_email=email,
        year=year,
        label=financial_year_label(year),
        start=start.date(),
        end=end.date() - timedelta(days=1),
        organisation=str(settings.ORGANISATION_NAME),
        registration=str(settings.ORGANISATION_REGISTRATION),
        acknowledgement=acknowledgement_text(),
    )
    for d in gifts:
        amount = _paid(d)
        if amount.amount <= 0:
            continue
        statement.donor_name = d.donor_name  # the latest name they gave
        statement.language = d.language
        assert d.succeeded_at is not None
        statement.lines.append(
            StatementLine(
                date=d.succeeded_at.astimezone(zone).date(),
                project=d.project.title,
                amount=amount,
                reference=str(d.pk),
                kind="monthly" if d.frequency == Donation.Frequency.MONTHLY else "one-time",
            )
        )
    return statement


def acknowledgement_text() -> str:
    """The US written acknowledgement (IRS Publication 1771): the organisation's name, and
    that no goods or services were provided in return; amounts and dates are in the table."""
    return (
        gettext(
            "%(organisation)s acknowledges with thanks the contributions listed above, in "
            "the amounts and on the dates shown. No goods or services were provided in "
            "exchange for these contributions."
        )
        % {"organisation": settings.ORGANISATION_NAME}
        + f" {settings.ORGANISATION_STATEMENT_TAX_NOTE}"
    ).strip()


def statement_render(statement: Statement) -> tuple[str, str, str]:
    """(subject, text body, HTML body) of a statement."""
    with translation.override(statement.language):
        statement.acknowledgement = acknowledgement_text()
        context = {"statement": statement, "site_url": settings.SITE_URL}
        subject = gettext("Your %(year)s giving statement from %(organisation)s") % {
            "year": statement.label,
            "organisation": statement.organisation,
        }
        text = render_to_string("donations/email/statement.txt", context)
        html = render_to_string("donations/email/statement.html", context)
    return subject, text, html
