"""The project's funding totals (the thermometer's read model, ``projects.FundingTotals``):
what each gift adds, and the one relative UPDATE that moves them.

Lock order everywhere: donation, donor, pools, totals, then the project's page version (its
trigger, projects/services/page_version.py). The totals row and the page version row, which
every gift to a project shares (and no gift to another project), are locked by the last
statement before commit, so they are held briefly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import F
from django.utils import timezone
from djmoney.money import Money

from donations.locks import advisory_xact_lock
from donations.models import Donation
from donations.money import quantum
from donations.services.gift_value import gift_value, kept_share
from projects.models import FundingTotals

S = Donation.Status
# An open dispute withdraws the money until it is won, so it does not count meanwhile.
COUNTING = {S.SUCCEEDED, S.PARTIALLY_REFUNDED}


def contribution(d: Donation) -> tuple[Decimal, bool]:
    """What a gift adds to its project, in the project's currency, and whether that is
    provisional. Counts the gift part of the settled money (not a fee the donor covered),
    net of refunds; nothing unless the gift succeeded; nothing after a lost dispute."""
    if d.status not in COUNTING:
        return Decimal(0), False
    gross, provisional = gift_value(d)
    if provisional or gross <= 0:
        return Decimal(0), provisional  # counted once Stripe reports the settled amount
    value = max(gross * kept_share(d), Decimal(0))
    return value.quantize(quantum(d.project.currency), ROUND_HALF_UP), False


@dataclass(frozen=True)
class TotalsChange:
    raised: Decimal
    gifts: int
    donors: int
    provisional_changed: bool

    @property
    def empty(self) -> bool:
        return not (self.raised or self.gifts or self.donors or self.provisional_changed)


def _donor_lock(d: Donation) -> None:
    """Serialise gifts from one donor to one project (released at commit), so "is this a new
    donor?" is answered once per donor even under concurrency."""
    advisory_xact_lock(d.project_id, d.donor_email)  # the key workers have always used


def gift_recount(d: Donation) -> TotalsChange:
    """Bring the gift's ``counted`` in line with its state (saved by the caller) and return
    how the project's totals must move. Takes the donor lock when the gift starts or stops
    counting. Incremental, so a busy project's gifts are never re-summed."""
    new, provisional = contribution(d)
    old, was_provisional = d.counted, d.counted_provisional
    d.counted, d.counted_provisional = new, provisional
    gift_change = int(new > 0) - int(old > 0)
    donor_change = 0
    if gift_change:
        _donor_lock(d)
        others = (
            Donation.objects.filter(
                project_id=d.project_id, donor_email=d.donor_email, counted__gt=0
            )
            .exclude(pk=d.pk)
            .exists()
        )
        donor_change = 0 if others else gift_change
    return TotalsChange(new - old, gift_change, donor_change, provisional != was_provisional)


def totals_move(*, donation: Donation, change: TotalsChange, matched: Decimal) -> None:
    """One relative UPDATE of the project's totals: the last statement of the transition
    (it takes the totals row lock, held to commit)."""
    if change.empty and not matched:
        return
    changes: dict[str, Any] = {
        "raised": F("raised") + change.raised,
        "matched": F("matched") + matched,
        "gift_count": F("gift_count") + change.gifts,
        "donor_count": F("donor_count") + change.donors,
        "updated_at": timezone.now(),
    }
    project_id = donation.project_id
    if not FundingTotals.objects.filter(project_id=project_id).update(**changes):
        currency = donation.project.currency
        FundingTotals.objects.get_or_create(
            project_id=project_id,
            defaults={"raised": Money(0, currency), "matched": Money(0, currency)},
        )
        FundingTotals.objects.filter(project_id=project_id).update(**changes)
    if change.provisional_changed:
        # Asked in a statement of its own, now that the row lock is held: under READ
        # COMMITTED a subquery inside an UPDATE that had to wait for the row reads the
        # snapshot from before the wait, and missed a gift made provisional by the
        # transaction it waited for. This statement's snapshot includes it.
        waiting = Donation.objects.filter(project_id=project_id, counted_provisional=True)
        FundingTotals.objects.filter(project_id=project_id).update(provisional=waiting.exists())
