"""Reads for the public pages. Each page is a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest
from djmoney.money import Money

from projects.models import FundingTotals, Photo, Project


@dataclass(frozen=True)
class Funding:
    cost: Money
    raised: Money  # donors' gifts plus matches
    donations: Money  # donors' gifts alone
    matched: Money
    donor_count: int
    provisional: bool

    @property
    def percent(self) -> Decimal:
        """Percent funded for the thermometer, capped at 100 (the text shows the real sum)."""
        if self.cost.amount <= 0:
            return Decimal(0)
        pct = self.raised.amount * 100 / self.cost.amount
        return min(pct, Decimal(100)).quantize(Decimal("0.1"), ROUND_DOWN)

    @property
    def percent_matched(self) -> Decimal:
        """The matched share of the bar (the rest of ``percent`` is donors' gifts)."""
        if self.cost.amount <= 0 or self.raised.amount <= 0:
            return Decimal(0)
        share = self.percent * self.matched.amount / self.raised.amount
        return share.quantize(Decimal("0.1"), ROUND_DOWN)

    @property
    def percent_donors(self) -> Decimal:
        return self.percent - self.percent_matched

    @property
    def percent_label(self) -> str:
        """The share funded as a donor reads it: "0%", "less than 0.1%", "0.4%", "37%", and
        "100%" only once the goal is met (99.96% says "99%")."""
        if self.cost.amount <= 0 or self.raised.amount <= 0:
            return "0%"
        exact = self.raised.amount * 100 / self.cost.amount
        if exact >= 100:  # noqa: PLR2004 - per cent
            return "100%"
        if exact < Decimal("0.1"):
            return "less than 0.1%"
        if exact < 1:
            return f"{exact.quantize(Decimal('0.1'), ROUND_DOWN)}%"
        return f"{exact.to_integral_value(ROUND_DOWN)}%"

    def _share(self, amount: Decimal) -> Decimal:
        if self.cost.amount <= 0:
            return Decimal(0)
        return amount * 100 / self.cost.amount

    @property
    def bar_donors(self) -> int:
        """Whole-percent width class of the donors' part of the bar (CSS .pct-N), from the
        exact share (0.07% is a sliver, not nothing); the two parts never pass 100."""
        return min(_bar_width(self._share(self.donations.amount)), 100 - self.bar_matched)

    @property
    def bar_matched(self) -> int:
        return _bar_width(self._share(self.matched.amount))

    @property
    def remaining(self) -> Money:
        left = self.cost.amount - self.raised.amount
        return Money(max(left, Decimal(0)), self.cost.currency)

    @property
    def is_funded(self) -> bool:
        return self.raised.amount >= self.cost.amount


def _bar_width(percent: Decimal) -> int:
    """Whole percent, at least 1 for any money at all, so 0.4% still shows (a sliver that the
    CSS widens to a visible minimum) and never more than 100."""
    if percent <= 0:
        return 0
    return max(1, min(100, int(percent.to_integral_value(ROUND_HALF_UP))))


def project_funding(project: Project) -> Funding:
    """Funding figures from the totals read model (already joined by the selectors)."""
    currency = project.currency
    try:
        totals: FundingTotals | None = project.totals
    except FundingTotals.DoesNotExist:
        totals = None
    donations = totals.raised.amount if totals else Decimal(0)
    matched = totals.matched.amount if totals else Decimal(0)
    return Funding(
        cost=project.cost,
        raised=Money(donations + matched, currency),
        donations=Money(donations, currency),
        matched=Money(matched, currency),
        donor_count=totals.donor_count if totals else 0,
        provisional=totals.provisional if totals else False,
    )


def project_accepts_gifts(project: Project, funding: Funding | None = None) -> bool:
    """Whether the project takes gifts now: published, and not funded when staff chose to
    close the donate form at the goal. The form is shown, and a gift started, only then."""
    if project.status != Project.Status.PUBLISHED:
        return False
    if project.after_goal != Project.AfterGoal.CLOSE_FORM:
        return True
    return not (funding or project_funding(project)).is_funded


def project_list_published() -> QuerySet[Project]:
    return (
        Project.objects.published()
        .select_related("totals")
        .prefetch_related(Prefetch("photos", queryset=Photo.objects.order_by("order", "id")))
    )


def _can_preview(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_staff and user.has_perm("projects.view_project"))


def _visible_get(qs: QuerySet[Project], *, slug: str, user: Any) -> Project:
    if not _can_preview(user):
        # Archived projects keep their page (old links, receipts); drafts are private.
        qs = qs.exclude(status=Project.Status.DRAFT)
    try:
        return qs.get(slug=slug)
    except Project.DoesNotExist as exc:
        raise Http404("No such project") from exc


def project_for_totals(*, slug: str, user: AbstractBaseUser | AnonymousUser) -> Project:
    """The project and its totals row only (one query): what the live thermometer reads."""
    return _visible_get(Project.objects.select_related("totals"), slug=slug, user=user)


# A project page's versions (campaign/pagecache.py): the site's and the project's, found by
# the slug in the URL, in one statement (the slug's unique index and two primary-key reads).
PAGE_VERSIONS_SQL = (
    "SELECT site.version, p.id, page.version FROM projects_project p "
    "LEFT JOIN projects_pageversion page ON page.scope = p.id "
    "LEFT JOIN projects_pageversion site ON site.scope = 0 WHERE p.slug = %s"
)


def project_page_versions(request: HttpRequest, kwargs: dict[str, Any]) -> str:
    """The key part of a project's page (detail, fact sheet): ``versions=`` of
    ``public_page``. A gift to another project moves neither version."""
    with connection.cursor() as cursor:
        cursor.execute(PAGE_VERSIONS_SQL, [kwargs["slug"]])
        row = cursor.fetchone()
    if row is None:
        return "none"  # no such project: the view answers 404, which is never stored
    site, project_id, version = row
    return f"s{site or 0}.p{project_id}.{version or 0}"


def project_detail_get(*, slug: str, user: AbstractBaseUser | AnonymousUser) -> Project:
    """The project with everything its page shows; drafts only for staff who may preview."""
    qs = Project.objects.select_related("totals").prefetch_related(
        "species", "threats", "sections", "photos"
    )
    return _visible_get(qs, slug=slug, user=user)


@dataclass(frozen=True)
class AcresFigure:
    """What the acres calculator says for a gift ("$50 protects about 47 acres"), decided
    here for the page without JavaScript and for acres.json alike; both render it with
    projects/_calc_result.html, so the script shows the server's sentence and computes none."""

    gift: Money
    acres: Decimal  # Project.acres_for, where the rule lives (and only there)
    whole_project: bool  # the gift meets the cost: "would fund the whole project: all N acres"
    about: bool  # the acres are rounded (Project.acres_rounded)


def acres_figure(project: Project, gift: Decimal) -> AcresFigure:
    return AcresFigure(
        gift=Money(gift, project.currency),
        acres=project.acres_for(gift),
        whole_project=gift >= project.cost.amount,
        about=project.acres_rounded(gift),
    )
