"""The money ledger: one append-only row per money movement."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.db import models
from django.db.models import Q
from djmoney.models.fields import MoneyField

from donations.models.gifts import Donation
from donations.models.matching import MatchingPool
from donations.models.payouts import Payout
from projects.models import Project


class LedgerEntry(models.Model):
    """One money movement, append-only: written in the transaction of the state change that
    caused it; never updated or deleted (database triggers refuse it). Only the links that
    are learned later are filled in, once: the balance transaction id of a gift recorded
    before Stripe reported it, and the payout the money arrived in.

    ``amount`` is signed, in the currency the money moved in (the donor's); ``settled`` in
    the account's settlement currency at Stripe's real rate. ``project_amount`` is what the
    row moves the project's thermometer by (raised for gift movements, matched for match
    rows), in the project's currency: the funding totals are the sum of these.
    """

    class Kind(models.TextChoices):
        GIFT = "gift", "Gift (gross)"
        FEE = "fee", "Processing fee"
        REFUND = "refund", "Refund"
        REFUND_FAILED = "refund_failed", "Failed refund (money back)"
        DISPUTE_WITHDRAWAL = "dispute_withdrawal", "Dispute withdrawal"
        DISPUTE_FEE = "dispute_fee", "Dispute fee"
        DISPUTE_REINSTATEMENT = "dispute_reinstatement", "Dispute reinstatement"
        MATCH = "match", "Match"
        MATCH_REVERSAL = "match_reversal", "Match reversal"
        OFFLINE_GIFT = "offline_gift", "Offline gift"
        OFFLINE_VOID = "offline_void", "Offline gift voided"
        ADJUSTMENT = "adjustment", "Adjustment (counted, no money moved)"

    # Kinds that move a project's raised figure, and those that move its matched figure.
    RAISED_KINDS = (
        "gift",
        "refund",
        "refund_failed",
        "dispute_withdrawal",
        "dispute_reinstatement",
        "offline_gift",
        "offline_void",
        "adjustment",
    )
    MATCH_KINDS = ("match", "match_reversal")

    kind = models.CharField(max_length=24, choices=Kind.choices)
    # What the row is about, unique per kind: the gift's id, a refund's or allocation's id,
    # a balance transaction's id. Makes every write idempotent.
    reference = models.CharField(max_length=255)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="ledger")
    donation = models.ForeignKey(
        Donation, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger"
    )
    pool = models.ForeignKey(
        MatchingPool, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger"
    )
    amount = MoneyField(max_digits=14, decimal_places=2, default_currency="USD")
    settled = MoneyField(
        max_digits=14, decimal_places=2, default_currency="USD", null=True, blank=True
    )
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=9, null=True, blank=True)
    project_amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal(0))
    balance_transaction_id = models.CharField(max_length=255, blank=True)
    payout = models.ForeignKey(
        Payout, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger"
    )
    occurred_at = models.DateTimeField(help_text="When the money moved, by Stripe's clock.")
    # Set when the movement happened in a month finance had closed: the row is dated in the
    # first open month instead (services.periods.ledger_date) and keeps the real time here.
    original_occurred_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=200, blank=True)

    objects: ClassVar[models.Manager[LedgerEntry]] = models.Manager()

    class Meta:
        verbose_name_plural = "ledger entries"
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "reference"], name="ledger_one_per_reference"),
        ]
        indexes = [
            # Ends in the project amount: the totals check sums it from the index alone.
            models.Index(fields=["project", "kind", "project_amount"], name="ledger_project_kind"),
            models.Index(fields=["donation", "kind"], name="ledger_donation_kind"),
            models.Index(fields=["payout"], name="ledger_payout"),
            models.Index(fields=["balance_transaction_id"], name="ledger_balance_txn"),
            # Finance's search by reference (admin_scale.exact_search): the unique
            # (kind, reference) index cannot serve it without the kind.
            models.Index(fields=["reference"], name="ledger_reference"),
            models.Index(fields=["-occurred_at", "-id"], name="ledger_newest"),
            # Succeeded gifts on no payout yet (reconcile_check): only the unpaid-out rows.
            models.Index(
                fields=["occurred_at"],
                name="ledger_gift_no_payout",
                condition=Q(kind="gift", payout__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"
