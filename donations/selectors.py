from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Min, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from donations.models import SUPPORTER_CONDITION, Donation, MatchAllocation, MatchingPool
from donations.services.giving import fee_to_cover
from donations.services.matching import match_split
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
        return PublicStatus("confirmed", _("Confirmed"), True)
    if d.status == S.REFUNDED:
        return PublicStatus("refunded", _("Refunded"), True)
    if d.status == S.FAILED:
        return PublicStatus("failed", _("Payment failed"), True)
    if d.status == S.EXPIRED:
        return PublicStatus("expired", _("Not completed"), True)
    return PublicStatus("processing", _("Processing"), False)


def recent_supporters(project: Project, *, limit: int = 8) -> QuerySet[Donation]:
    """The latest gifts that count, newest first: read from the partial supporters index."""
    return Donation.objects.filter(SUPPORTER_CONDITION, project=project).order_by(
        F("succeeded_at").desc()
    )[:limit]


@dataclass(frozen=True)
class MatchOffer:
    """What donors see while a pool is open for a project."""

    label: str  # "2X"
    sponsor: str
    ratio: Decimal
    remaining: Money
    pools: tuple[tuple[Decimal, Decimal], ...]  # (ratio, remaining) in allocation order

    def match_for(self, amount: Decimal) -> Decimal:
        """The match a gift of this amount (in the project's currency) would get now: the rule
        pool_allocate applies, services.matching.match_split."""
        currency = str(self.remaining.currency)
        pools = [(ratio, remaining, currency) for ratio, remaining in self.pools]
        return sum(match_split(gift=Decimal(amount), pools=pools), Decimal(0))


def match_offer(project: Project) -> MatchOffer | None:
    """The open matching for a project right now, or None when spent or ended (one query)."""
    now = timezone.now()
    pools = [p for p in MatchingPool.objects.open_for(project, now).distinct() if p.remaining > 0]
    if not pools:
        return None
    first = pools[0]
    sponsors = ", ".join(dict.fromkeys(p.sponsor_name for p in pools if p.show_sponsor))
    return MatchOffer(
        label=first.multiplier_label,
        sponsor=sponsors,
        ratio=first.ratio,
        remaining=Money(sum((p.remaining for p in pools), Decimal(0)), project.currency),
        pools=tuple((p.ratio, p.remaining) for p in pools),
    )


@dataclass(frozen=True)
class GiftQuote:
    """What the donate form tells a donor about a gift before they give. The page's script
    shows these figures and computes none (static/js/project.js): the presets' quotes are
    in the page, any other amount's come from donations.views.gift_quote_json."""

    amount: Money
    fee: Money  # what "cover the fee" adds (giving.fee_to_cover)
    total: Money  # what the donor pays: the gift, plus the fee when they cover it
    match: Money | None  # None: no open match, or matched at the rate Stripe settles it
    matched_at_settlement: bool  # a gift in another currency while a match is open
    acres: Decimal | None  # None in another currency (it depends on Stripe's rate)
    acres_about: bool  # the acres are rounded

    @property
    def becomes(self) -> Money | None:
        return None if self.match is None else self.amount + self.match

    def as_json(self) -> dict[str, Any]:
        """Decimal strings (never floats), as the script reads them."""
        return {
            "amount": str(self.amount.amount),
            "currency": str(self.amount.currency),
            "fee": str(self.fee.amount),
            "total": str(self.total.amount),
            "match": None if self.match is None else str(self.match.amount),
            "becomes": None if self.becomes is None else str(self.becomes.amount),
            "matched_at_settlement": self.matched_at_settlement,
            "acres": None if self.acres is None else str(self.acres),
            "acres_about": self.acres_about,
        }


def gift_quote(
    *, project: Project, amount: Money, cover_fee: bool, offer: MatchOffer | None
) -> GiftQuote:
    """The figures for a gift of `amount` to `project` with the open match `offer`
    (match_offer): the fee cover, the match and the acres, each by its one rule."""
    currency = str(amount.currency)
    fee = fee_to_cover(amount)
    same = currency == project.currency
    match = Money(offer.match_for(amount.amount), currency) if offer and same else None
    acres = project.acres_for(amount.amount) if same else None
    return GiftQuote(
        amount=amount,
        fee=fee,
        total=amount + fee if cover_fee else amount,
        match=match,
        matched_at_settlement=bool(offer) and not same,
        acres=acres,
        acres_about=acres is not None and project.acres_rounded(amount.amount),
    )


def match_next_change(now: datetime) -> datetime | None:
    """The next time an active pool opens or closes: cached pages showing the match banner
    must not outlive it (campaign/pagecache.py, PAGE_CACHE_EXPIRY)."""
    found = MatchingPool.objects.filter(active=True, ends_at__gt=now).aggregate(
        starts=Min("starts_at", filter=Q(starts_at__gt=now)), ends=Min("ends_at")
    )
    moments = [m for m in found.values() if m is not None]
    return min(moments) if moments else None


def donation_matches(d: Donation) -> list[tuple[str, Money]]:
    """(sponsor or "A matching donor", live match) per pool, for the thank-you page and receipt."""
    live: dict[int, Decimal] = {}
    names: dict[int, str] = {}
    for a in MatchAllocation.objects.filter(donation=d).select_related("pool"):
        live[a.pool_id] = live.get(a.pool_id, Decimal(0)) + a.amount
        names[a.pool_id] = a.pool.sponsor_name if a.pool.show_sponsor else _("A matching donor")
    return [(names[k], Money(v, d.project.currency)) for k, v in live.items() if v > 0]


@dataclass(frozen=True)
class ChannelTotals:
    """Gifts that came through one share channel (projects.sharing.CHANNELS)."""

    channel: str
    label: str
    started: int  # every gift begun from a shared link, paid or not
    received: int  # succeeded (or partly refunded) gifts
    money: list[Money]  # what they add to projects' totals, one sum per project currency


def share_channel_totals() -> list[ChannelTotals]:
    """Gifts and money per share channel, for the admin. One aggregate over the partial
    covering index ``donation_referral_report`` (an index-only scan: only referred gifts are
    in it, with the status and counted amount the sums need), plus the projects' currencies.
    Money is what the gifts add to their projects' totals (net of refunds, in the project's
    currency); matched money is not included."""
    from projects.sharing import CHANNELS

    rows = _share_channel_rows()
    currencies = dict(Project.objects.values_list("pk", "cost_currency"))
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = totals.setdefault(
            row["referral_channel"], {"started": 0, "received": 0, "money": {}}
        )
        entry["started"] += row["started"]
        entry["received"] += row["received"]
        currency = str(currencies.get(row["project_id"], ""))
        entry["money"][currency] = entry["money"].get(currency, Decimal(0)) + (row["money"] or 0)
    return [
        ChannelTotals(
            channel=channel,
            label=label,
            started=totals.get(channel, {}).get("started", 0),
            received=totals.get(channel, {}).get("received", 0),
            money=[
                Money(amount, currency)
                for currency, amount in sorted(totals.get(channel, {}).get("money", {}).items())
                if amount
            ],
        )
        for channel, label in CHANNELS.items()
    ]


RECEIVED = [S.SUCCEEDED, S.PARTIALLY_REFUNDED, S.DISPUTED]


def _share_channel_rows() -> QuerySet[Any, Any]:
    """Per channel and project: gifts started, received, and the money they count."""
    return (
        Donation.objects.exclude(referral_channel="")
        .values("referral_channel", "project_id")
        .annotate(
            started=Count("status"),
            received=Count("status", filter=Q(status__in=RECEIVED)),
            money=Sum("counted"),
        )
        .order_by()
    )
