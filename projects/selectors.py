"""Reads for the public pages. Each page is a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet
from django.http import Http404
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
    def remaining(self) -> Money:
        left = self.cost.amount - self.raised.amount
        return Money(max(left, Decimal(0)), self.cost.currency)

    @property
    def is_funded(self) -> bool:
        return self.raised.amount >= self.cost.amount


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


def project_list_published() -> QuerySet[Project]:
    return (
        Project.objects.published()
        .select_related("totals")
        .prefetch_related(Prefetch("photos", queryset=Photo.objects.order_by("order", "id")))
    )


def _can_preview(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_staff and user.has_perm("projects.view_project"))


def project_detail_get(*, slug: str, user: AbstractBaseUser | AnonymousUser) -> Project:
    """The project with everything its page shows; drafts only for staff who may preview."""
    qs = Project.objects.select_related("totals").prefetch_related(
        "species", "threats", "sections", "photos"
    )
    if not _can_preview(user):
        # Archived projects keep their page (old links, receipts); drafts are private.
        qs = qs.exclude(status=Project.Status.DRAFT)
    try:
        return qs.get(slug=slug)
    except Project.DoesNotExist as exc:
        raise Http404("No such project") from exc
