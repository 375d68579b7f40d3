"""The progress block frozen at publishing, and each email's personal line."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.utils.translation import gettext, ngettext
from djmoney.money import Money

from projects.formatting import money_format, number_format
from projects.models import Project
from projects.selectors import acres_figure, project_funding


def progress_freeze(project: Project) -> dict[str, Any]:
    """Raised (gifts plus matches), matched, donors and acres funded, from the ledger-backed
    totals read model (FundingTotals, proven by reconcile_check), as strings of exact
    decimals: a JSON column keeps no Decimal."""
    funding = project_funding(project)
    return {
        "currency": project.currency,
        "raised": str(funding.raised.amount),
        "matched": str(funding.matched.amount),
        "cost": str(project.cost.amount),
        "donors": funding.donor_count,
        "acres": str(acres_funded(project, funding.raised.amount)),
        "acres_total": str(project.acres),
    }


def acres_funded(project: Project, raised: Decimal) -> Decimal:
    """The project's acres in the share of its cost that is raised (all of them once it is
    funded), in whole acres. Not acres_for: that prices one gift at the published price per
    acre, which staff may set apart from cost / acres."""
    if project.cost.amount <= 0:
        return Decimal(0)
    share = min(Decimal(raised) / project.cost.amount, Decimal(1))
    return (project.acres * share).quantize(Decimal("1"), ROUND_DOWN)


def progress_shown(progress: dict[str, Any]) -> dict[str, str]:
    """The frozen figures formatted in the active language (page and email)."""
    if not progress:
        return {}
    currency = progress["currency"]
    return {
        "raised": money_format(Money(Decimal(progress["raised"]), currency)),
        "matched": money_format(Money(Decimal(progress["matched"]), currency)),
        "cost": money_format(Money(Decimal(progress["cost"]), currency)),
        "donors": number_format(int(progress["donors"])),
        "acres": number_format(Decimal(progress["acres"])),
        "acres_total": number_format(Decimal(progress["acres_total"])),
    }


def personal_line(project: Project, *, gifts: int, total: Decimal) -> str:
    """ "Your 2 gifts, $75, protect about 64 acres": the donor's giving to the project turned
    into acres by the page calculator's own function (projects.selectors.acres_figure)."""
    if gifts < 1 or total <= 0:
        return ""
    figure = acres_figure(project, Decimal(total))
    values = {
        "n": number_format(gifts),
        "amount": money_format(figure.gift),
        "acres": number_format(figure.acres),
    }
    if figure.about:
        text = ngettext(
            "Your gift, %(amount)s, protects about %(acres)s acres.",
            "Your %(n)s gifts, %(amount)s, protect about %(acres)s acres.",
            gifts,
        )
    else:
        text = ngettext(
            "Your gift, %(amount)s, protects %(acres)s acres.",
            "Your %(n)s gifts, %(amount)s, protect %(acres)s acres.",
            gifts,
        )
    return text % values


def legal_status_line(text: str) -> str:
    return gettext("The land's legal status: %(status)s") % {"status": text} if text else ""
