"""Reads: who an update goes to, who may see it, which updates a page lists."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from donations.models import Donation
from projects.models import Project
from stewardship.models import Update, UpdateConsent

# A donor of a project: a succeeded gift that is not fully refunded (a partial refund keeps
# the donor; a disputed charge does not get marketing mail). Offline gifts are gifts like any
# other and count when finance recorded an address; anonymous donors count (anonymity is
# about what the site displays). The recipient index (migration 0001) is partial on exactly
# this condition.
DONOR_STATUSES = ["succeeded", "partially_refunded"]
DONOR_CONDITION = Q(status__in=DONOR_STATUSES) & ~Q(donor_email="")


def donor_gifts(project: Project) -> QuerySet[Donation]:
    return Donation.objects.filter(DONOR_CONDITION, project=project)


def recipients(project: Project) -> Iterator[tuple[str, str]]:
    """(address, language) for each distinct donor address of the project, once each, in the
    language of the donor's most recent gift to it. One index-only scan of the partial index
    ``donation_update_recipients`` (project, donor_email, created_at DESC) INCLUDE (language),
    read in order, so the first row of each address is its latest gift; constant memory."""
    rows = (
        donor_gifts(project)
        .order_by("donor_email", "-created_at")
        .values_list("donor_email", "language")
        .iterator(chunk_size=5000)
    )
    last = None
    for email, language in rows:
        if email != last:
            last = email
            yield email, language


@dataclass(frozen=True)
class Audience:
    total: int
    spanish: int
    opted_out: int


def opted_out(emails: Iterable[str], project: Project | int) -> set[str]:
    """The addresses among ``emails`` whose choice in force is no update email from this
    project: their latest choice for this project, or for every project, is "out" (an earlier
    "all" stays in force over a later "this one" only if it is the later of the two for its
    own scope). A bounce counts as "out" until the donor subscribes again."""
    project_id = project if isinstance(project, int) else project.pk
    wanted = list(emails)
    latest: dict[tuple[str, int | None], bool] = {}
    for start in range(0, len(wanted), 1000):
        rows = (
            UpdateConsent.objects.filter(email__in=wanted[start : start + 1000])
            .filter(Q(project_id=project_id) | Q(project__isnull=True))
            .order_by("created_at", "id")
            .values_list("email", "project_id", "subscribed")
        )
        for email, scope, subscribed in rows:
            latest[(email, scope)] = subscribed
    return {email for (email, _scope), subscribed in latest.items() if not subscribed}


def bounced(emails: Iterable[str]) -> set[str]:
    """Addresses whose latest all-projects choice is a bounce from the mail server."""
    rows = (
        UpdateConsent.objects.filter(email__in=list(emails), project__isnull=True)
        .order_by("created_at", "id")
        .values_list("email", "source")
    )
    found = dict(rows)  # in time order: each address's latest all-projects choice wins
    return {e for e, source in found.items() if source == UpdateConsent.Source.BOUNCE}


def audience_count(project: Project) -> Audience:
    """How many addresses publishing would email, how many of them in Spanish, and how many
    donors are left out by their own choice (the publish page shows all three)."""
    total = spanish = skipped = 0
    batch: list[tuple[str, str]] = []

    def flush() -> None:
        nonlocal total, spanish, skipped
        out = opted_out((e for e, _l in batch), project)
        for email, language in batch:
            if email in out:
                skipped += 1
            else:
                total += 1
                spanish += language == "es"
        batch.clear()

    for row in recipients(project):
        batch.append(row)
        if len(batch) >= 1000:  # noqa: PLR2004 - the consent lookup's batch
            flush()
    flush()
    return Audience(total=total, spanish=spanish, opted_out=skipped)


def is_donor(project: Project, email: str | None) -> bool:
    return bool(email) and donor_gifts(project).filter(donor_email=email).exists()


def donor_giving(project: Project, email: str) -> tuple[int, Decimal]:
    """The donor's gifts to the project: how many, and what they added up to in the
    project's currency (what the thermometer counted for them, net of refunds)."""
    row = donor_gifts(project).filter(donor_email=email).aggregate(n=Count("pk"), s=Sum("counted"))
    return int(row["n"] or 0), Decimal(row["s"] or 0)


def published(project: Project | None = None) -> QuerySet[Update]:
    qs = Update.objects.filter(status=Update.Status.PUBLISHED).select_related("project")
    return qs.filter(project=project) if project is not None else qs


def public_q(today: date | None = None) -> Q:
    today = today or timezone.localdate()
    return Q(visibility=Update.Visibility.PUBLIC) | Q(public_from__lte=today)


def updates_listed(project: Project, *, donor: bool) -> QuerySet[Update]:
    """A project's published updates, newest first: the public ones, and to one of its
    donors signed in through My gifts also the donors-only ones."""
    qs = published(project).order_by("-published_at", "-id")
    return qs if donor else qs.filter(public_q())


def updates_public(limit: int = 50) -> QuerySet[Update]:
    """The site's public updates, newest first (the site feed, the sitemap)."""
    return published().filter(public_q()).order_by("-published_at", "-id")[:limit]


def given_projects(email: str) -> QuerySet[Project]:
    """The projects this address gave to (My gifts lists a choice for each)."""
    ids = Donation.objects.filter(DONOR_CONDITION, donor_email=email).values("project_id")
    return Project.objects.filter(pk__in=ids).order_by("title")


@dataclass(frozen=True)
class Choices:
    all: bool  # update emails at all
    projects: dict[int, bool]  # per project, where the donor chose


def choices_for(email: str) -> Choices:
    """The donor's choices in force: the latest row of each scope."""
    rows = (
        UpdateConsent.objects.filter(email=email)
        .order_by("created_at", "id")
        .values_list("project_id", "subscribed")
    )
    latest: dict[int | None, bool] = dict(rows)  # in time order: the latest choice wins
    every = latest.pop(None, True)
    return Choices(all=every, projects={k: v for k, v in latest.items() if k is not None})
