from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from donations.models import Donation
from projects.models import Project

S = Donation.Status


@dataclass(frozen=True)
class PublicStatus:
    code: str
    label: str
    final: bool


def donation_public_status(d: Donation) -> PublicStatus:
    """What the thank-you page may say. Never "confirmed" before the webhook path confirmed it."""
    if d.status in {S.SUCCEEDED, S.PARTIALLY_REFUNDED, S.DISPUTED}:
        return PublicStatus("confirmed", "Confirmed", True)
    if d.status == S.REFUNDED:
        return PublicStatus("refunded", "Refunded", True)
    if d.status == S.FAILED:
        return PublicStatus("failed", "Payment failed", True)
    if d.status == S.EXPIRED:
        return PublicStatus("expired", "Not completed", True)
    return PublicStatus("processing", "Processing", False)


def recent_supporters(project: Project, *, limit: int = 8) -> QuerySet[Donation]:
    return Donation.objects.filter(
        project=project, status__in=[S.SUCCEEDED, S.PARTIALLY_REFUNDED, S.DISPUTED], counted__gt=0
    ).order_by("-succeeded_at")[:limit]
