"""Payouts to the charity's bank account and the balance transactions each paid out."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from djmoney.models.fields import MoneyField

from donations.models.gifts import Donation


class Payout(models.Model):
    """A payout from the payment provider to the charity's bank account, and how its lines
    reconcile (Stripe's own reconciliation status, and ours: do the lines add up?)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        IN_TRANSIT = "in_transit", "In transit"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    class Lines(models.TextChoices):
        AWAITING = "awaiting", "Awaiting Stripe's reconciliation"
        RECONCILED = "reconciled", "Lines sum to the amount"
        MISMATCH = "mismatch", "Lines do not sum to the amount"
        NOT_ITEMISED = "not_itemised", "Manual or instant payout: Stripe cannot itemise it"

    stripe_id = models.CharField(max_length=255, unique=True)
    amount = MoneyField(max_digits=14, decimal_places=2, default_currency="USD")
    status = models.CharField(max_length=12, choices=Status.choices)
    automatic = models.BooleanField(default=True)
    method = models.CharField(max_length=12, default="standard")
    arrival_date = models.DateTimeField(null=True, blank=True)
    provider_reconciliation = models.CharField(
        max_length=20, blank=True, help_text="Stripe's reconciliation_status."
    )
    lines_status = models.CharField(max_length=12, choices=Lines.choices, default=Lines.AWAITING)
    lines_total = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    line_count = models.PositiveIntegerField(default=0)
    unlinked_count = models.PositiveIntegerField(default=0)
    difference = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Amount minus the sum of the lines' net, when they do not agree.",
    )
    failure_code = models.CharField(max_length=80, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(null=True, blank=True, help_text="Stripe's creation time.")
    reconciled_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[models.Manager[Payout]] = models.Manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["-created", "-id"], name="payout_newest"),
            models.Index(fields=["lines_status", "created"], name="payout_lines_status"),
        ]

    def __str__(self) -> str:
        return f"{self.stripe_id} {self.amount}"

    @property
    def currency(self) -> str:
        return str(self.amount.currency)


class PayoutLine(models.Model):
    """One balance transaction a payout paid out, linked to the gift and ledger row it
    belongs to, or unlinked (Stripe's own fees, adjustments, another product's charge)."""

    payout = models.ForeignKey(Payout, on_delete=models.CASCADE, related_name="lines")
    balance_transaction_id = models.CharField(max_length=255)
    type = models.CharField(max_length=40)
    reporting_category = models.CharField(max_length=60, blank=True)
    source_id = models.CharField(max_length=255, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    fee = models.DecimalField(max_digits=14, decimal_places=2)
    net = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=9, null=True, blank=True)
    donation = models.ForeignKey(
        Donation, null=True, blank=True, on_delete=models.PROTECT, related_name="payout_lines"
    )
    ledger_entry = models.ForeignKey(
        "donations.LedgerEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payout_lines",
    )
    description = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[models.Manager[PayoutLine]] = models.Manager()

    class Meta:
        # By id, not by payout: ordering by the foreign key would join and sort by the
        # payout's own ordering on every list of lines.
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payout", "balance_transaction_id"], name="payout_line_once"
            )
        ]
        indexes = [
            models.Index(fields=["payout", "id"], name="payout_line_in_order"),
            models.Index(fields=["donation"], name="payout_line_donation"),
            models.Index(fields=["source_id"], name="payout_line_source"),  # admin search
            models.Index(
                fields=["payout"], name="payout_line_unlinked", condition=Q(donation__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.balance_transaction_id} {self.net} {self.currency}"
