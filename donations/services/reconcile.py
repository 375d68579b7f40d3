"""The check that proves the thermometer: funding totals against the ledger and the gifts,
pools against their allocations, payouts against their lines, and Stripe gifts that no
payout has carried. ``--repair`` rebuilds the totals from the ledger.

The sums are GROUP BY queries served by indexes (the ledger's (project, kind) index covers
the project amount), so the nightly run stays a few seconds at a million gifts; gifts are
named only for a project whose totals disagree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import mail_admins
from django.db import transaction
from django.db.models import Count, DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from donations.models import (
    Donation,
    LedgerEntry,
    MatchAllocation,
    MatchingPool,
    Payout,
    PayoutLine,
    PeriodClose,
)
from donations.money import quantum
from donations.services.periods import month_after, month_start
from projects.models import FundingTotals, Project

logger = logging.getLogger(__name__)

ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=14, decimal_places=2))
LIST_AT_MOST = 20


@dataclass
class Report:
    checked: list[str] = field(default_factory=list)
    discrepancies: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.discrepancies


@dataclass(frozen=True)
class ProjectFigures:
    raised: Decimal
    matched: Decimal
    gifts: int
    donors: int
    provisional: bool


def project_figures(project_id: int | None = None) -> dict[int, ProjectFigures]:
    """What the projects' totals must be (every project's, or one's): raised and matched
    from the ledger; gifts, donors and provisional from the gifts. The one statement of
    the rule, for the check and for the repair."""
    ledger_rows = LedgerEntry.objects.all()
    gift_rows = Donation.objects.filter(Q(counted__gt=0) | Q(counted_provisional=True))
    projects = Project.objects.all()
    if project_id is not None:
        ledger_rows = ledger_rows.filter(project_id=project_id)
        gift_rows = gift_rows.filter(project_id=project_id)
        projects = projects.filter(pk=project_id)
    ledger = {
        row["project_id"]: row
        for row in ledger_rows.values("project_id").annotate(
            raised=Coalesce(
                Sum("project_amount", filter=Q(kind__in=LedgerEntry.RAISED_KINDS)), ZERO
            ),
            matched=Coalesce(
                Sum("project_amount", filter=Q(kind__in=LedgerEntry.MATCH_KINDS)), ZERO
            ),
        )
    }
    gifts = {
        row["project_id"]: row
        for row in gift_rows.values("project_id").annotate(
            gifts=Count("id", filter=Q(counted__gt=0)),
            donors=Count("donor_email", filter=Q(counted__gt=0), distinct=True),
            provisional=Count("id", filter=Q(counted_provisional=True)),
        )
    }
    figures = {}
    for pk in {*ledger, *gifts, *projects.values_list("pk", flat=True)}:
        money: dict[str, Any] = dict(ledger.get(pk) or {})
        people: dict[str, Any] = dict(gifts.get(pk) or {})
        figures[pk] = ProjectFigures(
            raised=money.get("raised", Decimal(0)),
            matched=money.get("matched", Decimal(0)),
            gifts=people.get("gifts", 0),
            donors=people.get("donors", 0),
            provisional=bool(people.get("provisional", 0)),
        )
    return figures


def _totals_discrepancies(totals: FundingTotals | None, want: ProjectFigures) -> list[str]:
    if totals is None:
        return (
            [] if want == ProjectFigures(Decimal(0), Decimal(0), 0, 0, False) else ["no totals row"]
        )
    have = {
        "raised": Decimal(totals.raised.amount),
        "matched": Decimal(totals.matched.amount),
        "gifts": totals.gift_count,
        "donors": totals.donor_count,
        "provisional": totals.provisional,
    }
    wanted = {
        "raised": want.raised,
        "matched": want.matched,
        "gifts": want.gifts,
        "donors": want.donors,
        "provisional": want.provisional,
    }
    return [
        f"{k} is {have[k]}, the ledger and gifts say {wanted[k]}"
        for k in have
        if have[k] != wanted[k]
    ]


def _gifts_off_ledger(project_id: int) -> list[str]:
    """Gifts whose counted figure is not the sum of their ledger rows (named, at most 20)."""
    rows = (
        LedgerEntry.objects.filter(donation=OuterRef("pk"), kind__in=LedgerEntry.RAISED_KINDS)
        .values("donation")
        .annotate(s=Sum("project_amount"))
        .values("s")
    )
    off = (
        Donation.objects.filter(project_id=project_id)
        .annotate(ledger_sum=Coalesce(Subquery(rows), ZERO))
        .exclude(counted=F("ledger_sum"))
        .values_list("pk", "counted", "ledger_sum")[:LIST_AT_MOST]
    )
    return [f"gift {pk} counts {c}, its ledger rows add up to {s}" for pk, c, s in off]


def _check_projects(report: Report) -> None:
    figures = project_figures()
    totals = {t.project_id: t for t in FundingTotals.objects.all()}
    projects = {p.pk: p for p in Project.objects.only("pk", "slug", "cost", "cost_currency")}
    for project_id in sorted(figures):
        want = figures[project_id]
        problems = _totals_discrepancies(totals.get(project_id), want)
        project = projects.get(project_id)
        name = project.slug if project else project_id
        q = quantum(project.currency if project else "USD")
        report.checked.append(
            f"project {name}: raised {want.raised.quantize(q)}, matched "
            f"{want.matched.quantize(q)}, "
            f"{want.gifts} gift(s) from {want.donors} donor(s)"
            + (", provisional" if want.provisional else "")
        )
        for problem in problems:
            report.discrepancies.append(f"project {name}: {problem}")
        if problems:
            report.discrepancies += [f"project {name}: {g}" for g in _gifts_off_ledger(project_id)]


def _check_pools(report: Report) -> None:
    allocations = dict(
        MatchAllocation.objects.values("pool_id")
        .annotate(s=Sum("amount"))
        .values_list("pool_id", "s")
    )
    mirrored = dict(
        LedgerEntry.objects.filter(kind__in=LedgerEntry.MATCH_KINDS, pool__isnull=False)
        .values("pool_id")
        .annotate(s=Sum("project_amount"))
        .values_list("pool_id", "s")
    )
    for pool in MatchingPool.objects.order_by("pk"):
        total = allocations.get(pool.pk) or Decimal(0)
        report.checked.append(
            f"pool {pool.pk} ({pool.sponsor_name}): allocated {pool.allocated} of {pool.cap}"
        )
        if total != pool.allocated:
            report.discrepancies.append(
                f"pool {pool.pk}: running total {pool.allocated}, its allocations add up to {total}"
            )
        if pool.allocated > pool.cap.amount:
            report.discrepancies.append(
                f"pool {pool.pk}: allocated {pool.allocated} is over its cap"
            )
        if (mirrored.get(pool.pk) or Decimal(0)) != total:
            report.discrepancies.append(
                f"pool {pool.pk}: the ledger's match rows add up to {mirrored.get(pool.pk) or 0}, "
                f"its allocations to {total}"
            )


def _check_payouts(report: Report) -> None:
    lines_state = Payout.Lines
    lines = dict(
        PayoutLine.objects.values("payout_id")
        .annotate(s=Sum("net"), n=Count("id"))
        .values_list("payout_id", "s")
    )
    counts = dict(
        PayoutLine.objects.values("payout_id").annotate(n=Count("id")).values_list("payout_id", "n")
    )
    for payout in Payout.objects.order_by("created", "pk"):
        amount = Decimal(payout.amount.amount)
        if payout.lines_status == lines_state.NOT_ITEMISED:
            report.checked.append(
                f"payout {payout.stripe_id}: {payout.amount}, {payout.method}"
                f"{'' if payout.automatic else ' manual'} payout, not itemised by Stripe"
            )
            continue
        if payout.lines_status == lines_state.AWAITING:
            report.checked.append(
                f"payout {payout.stripe_id}: {payout.amount}, awaiting Stripe's reconciliation "
                f"({payout.provider_reconciliation or 'not started'})"
            )
            if payout.provider_reconciliation == "completed":
                report.discrepancies.append(
                    f"payout {payout.stripe_id}: Stripe completed its reconciliation, "
                    "its lines are not stored yet"
                )
            continue
        total = (lines.get(payout.pk) or Decimal(0)).quantize(quantum(payout.currency))
        report.checked.append(
            f"payout {payout.stripe_id}: {payout.amount}, {counts.get(payout.pk, 0)} line(s) "
            f"summing to {total}" + (" = its amount" if total == amount else "")
        )
        if total != amount:
            report.discrepancies.append(
                f"payout {payout.stripe_id}: lines sum to {total}, the payout is {amount} "
                f"(difference {amount - total})"
            )


def _check_unpaid_gifts(report: Report, *, days: int) -> None:
    cutoff = timezone.now() - timedelta(days=days)
    stale = LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.GIFT, payout__isnull=True, occurred_at__lt=cutoff
    ).exclude(donation__status=Donation.Status.DISPUTED)
    count = stale.count()
    report.checked.append(f"succeeded Stripe gifts older than {days} day(s) on no payout: {count}")
    for donation_id, occurred in stale.order_by("occurred_at").values_list(
        "donation_id", "occurred_at"
    )[:LIST_AT_MOST]:
        report.discrepancies.append(
            f"gift {donation_id} paid {occurred:%Y-%m-%d %H:%M} UTC is on no payout"
        )
    if count > LIST_AT_MOST:
        report.discrepancies.append(f"... and {count - LIST_AT_MOST} more gifts on no payout")


def _check_closed_periods(report: Report) -> None:
    """No row dated inside a closed month was written after it closed (the rows it held when
    it closed are its books; anything later belongs in an open month, ledger_date)."""
    closes = list(PeriodClose.objects.filter(reopened_at__isnull=True).order_by("month"))
    report.checked.append(f"closed months: {len(closes)}")
    for close in closes:
        inside = LedgerEntry.objects.filter(
            occurred_at__gte=month_start(close.month),
            occurred_at__lt=month_start(month_after(close.month)),
            recorded_at__gt=close.closed_at,
        )
        count = inside.count()
        if not count:
            continue
        report.discrepancies.append(
            f"closed month {close.month:%Y-%m}: {count} ledger row(s) dated inside it were "
            f"written after it closed ({close.closed_at:%Y-%m-%d %H:%M} UTC)"
        )
        for pk, kind, reference in inside.values_list("pk", "kind", "reference")[:LIST_AT_MOST]:
            report.discrepancies.append(
                f"closed month {close.month:%Y-%m}: row {pk} {kind} {reference}"
            )


def totals_rebuild() -> list[str]:
    """Rewrite every project's totals from the ledger and the gifts. Each project's totals
    row is locked (the lock every transition takes last) before its figures are read: a
    transition that committed earlier is in them; one still running adds its own change,
    relative, after this commit."""
    repaired = []
    for project in Project.objects.order_by("pk"):
        with transaction.atomic():
            totals, _ = FundingTotals.objects.select_for_update().get_or_create(
                project=project,
                defaults={"raised": (0, project.currency), "matched": (0, project.currency)},
            )
            want = project_figures_for(project.pk)
            if not _totals_discrepancies(totals, want):
                continue
            FundingTotals.objects.filter(pk=totals.pk).update(
                raised=want.raised,
                matched=want.matched,
                gift_count=want.gifts,
                donor_count=want.donors,
                provisional=want.provisional,
                updated_at=timezone.now(),
            )
            repaired.append(
                f"project {project.slug}: totals rebuilt (raised {want.raised}, matched "
                f"{want.matched}, {want.gifts} gift(s), {want.donors} donor(s))"
            )
    return repaired


def project_figures_for(project_id: int) -> ProjectFigures:
    """One project's figures (project_figures), for the repair under its totals row lock."""
    return project_figures(project_id)[project_id]


def reconcile_check(*, unpaid_after_days: int, repair: bool = False) -> Report:
    """Run every check (after rebuilding the totals, with ``repair``)."""
    report = Report()
    if repair:
        report.repaired = totals_rebuild()
    _check_projects(report)
    _check_pools(report)
    _check_payouts(report)
    _check_unpaid_gifts(report, days=unpaid_after_days)
    _check_closed_periods(report)
    return report


def reconcile_nightly() -> int:
    """The nightly check (beat): mails ADMINS the discrepancies, if any. Returns how many."""
    report = reconcile_check(unpaid_after_days=settings.RECONCILE_UNPAID_AFTER_DAYS)
    if not report.ok:
        logger.error("reconcile_check found %s discrepancies", len(report.discrepancies))
        mail_admins(
            f"reconcile_check: {len(report.discrepancies)} discrepancy(ies)",
            "\n".join(["Discrepancies:", *report.discrepancies, "", "Checked:", *report.checked]),
        )
    return len(report.discrepancies)
