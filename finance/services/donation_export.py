"""The donations export: one row per gift, with our and Stripe's ids, the payout, paid
date, project, donor, amount, settled amount and rate, fee, net, fee covered, match,
refunds, offline method and reference, and status."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce

from donations.models import Donation, LedgerEntry, MatchAllocation
from finance.services.export_filters import ExportFilters, filters_apply, zone_name
from finance.services.export_formats import Column, local_text, yes_no

S = Donation.Status
PAID_STATUSES = (S.SUCCEEDED, S.PARTIALLY_REFUNDED, S.REFUNDED, S.DISPUTED)
GIFT_KINDS = ("gift", "offline_gift")


def donation_columns() -> list[Column]:
    z = zone_name()
    match_sum = (
        MatchAllocation.objects.filter(donation=OuterRef("pk"))
        .values("donation")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    first_pool = (
        MatchAllocation.objects.filter(donation=OuterRef("pk"), kind=MatchAllocation.Kind.ALLOCATE)
        .order_by("id")
        .values("pool__sponsor_name")[:1]
    )
    return [
        Column("id", "id"),
        Column("payment_intent", "payment_intent_id"),
        Column("charge", "charge_id"),
        Column("balance_transaction", "balance_transaction_id"),
        *payout_columns(),
        Column(f"created ({z})", local_text("created_at")),
        Column(f"paid ({z})", local_text("succeeded_at")),
        Column("project", "project__slug"),
        Column("donor_name", "donor_name"),
        Column("donor_email", "donor_email"),
        Column("amount", "amount"),
        Column("currency", "amount_currency"),
        Column("charged", "charged"),
        Column("charged_currency", "charged_currency"),
        Column("settled", "settled"),
        Column("settled_currency", "settled_currency"),
        Column("exchange_rate", "exchange_rate"),
        Column("stripe_fee", "stripe_fee"),
        Column("net", "net"),
        Column("fee_covered", "fee_covered"),
        Column("refunded", "refunded"),
        Column("counted", "counted"),
        Column("project_currency", "project__cost_currency"),
        Column("match_amount", Coalesce(Subquery(match_sum), Value(Decimal(0))), money=True),
        Column("match_pool", Subquery(first_pool)),
        # What the gift moves the thermometer by: counted (donors' money) plus its match.
        Column(
            "to_thermometer",
            F("counted") + Coalesce(Subquery(match_sum), Value(Decimal(0))),
            money=True,
        ),
        Column("disputed", "dispute_status"),
        Column("status", "status"),
        Column("frequency", "frequency"),
        Column(
            "tribute",
            Case(
                When(tribute_type="", then=Value("")),
                default=Cast(F("tribute_type"), CharField()),
            ),
        ),
        Column("tribute_name", "tribute_name"),
        Column("anonymous", yes_no("anonymous")),
        *offline_columns(),
        Column("receipt_number", "receipt_number"),
    ]


def payout_columns() -> list[Column]:
    """The payout the gift arrived in (from the ledger, once it is known)."""
    gift_row = LedgerEntry.objects.filter(
        donation=OuterRef("pk"), kind="gift", payout__isnull=False
    ).order_by("id")
    return [
        Column("payout", Subquery(gift_row.values("payout__stripe_id")[:1])),
        Column(
            "payout_arrival",
            Subquery(gift_row.annotate(a=local_text("payout__arrival_date")).values("a")[:1]),
            kind="datetime",
        ),
    ]


def offline_columns() -> list[Column]:
    """An offline gift's method and reference (cheque number, bank reference), from its
    OfflineGift row: a LEFT JOIN on the one-to-one's unique donation_id (at most one row a
    gift, so the rows do not multiply); empty for gifts through Stripe."""
    return [
        Column("offline_method", Coalesce(F("offline__method"), Value(""))),
        Column("offline_reference", Coalesce(F("offline__reference"), Value("")), text=True),
    ]


def donations_queryset(f: ExportFilters) -> QuerySet[Donation]:
    qs = Donation.objects.all()
    qs = qs.filter(status__in=f.statuses or PAID_STATUSES)
    qs = filters_apply(qs, f, moment="succeeded_at")
    if f.payout:
        qs = qs.filter(
            Exists(
                LedgerEntry.objects.filter(
                    donation=OuterRef("pk"), payout__stripe_id=f.payout, kind__in=GIFT_KINDS
                )
            )
        )
    return qs
