"""Closed accounting periods and the serial numbers of receipts and statements.

A month that finance has closed stays closed: no ledger row is dated inside it afterwards
(``donations.services.periods.ledger_date`` moves a late movement into the first open month).
Each close is a row; a reopen fills in that row's reopen fields once, so the rows are the
whole history of closes and reopens, and a month is closed while it has a row not reopened.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q


class PeriodClose(models.Model):
    month = models.DateField(help_text="The first day of the month closed.")
    closed_at = models.DateTimeField()
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_by_label = models.CharField(max_length=150, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reopened_by_label = models.CharField(max_length=150, blank=True)
    reopen_reason = models.CharField(max_length=300, blank=True)

    objects: ClassVar[models.Manager[PeriodClose]] = models.Manager()

    class Meta:
        ordering = ["-month", "-closed_at"]
        verbose_name = "period close"
        constraints = [
            # A month is closed at most once at a time.
            models.UniqueConstraint(
                fields=["month"], condition=Q(reopened_at__isnull=True), name="period_closed_once"
            ),
            models.CheckConstraint(
                condition=Q(reopened_at__isnull=True) | ~Q(reopen_reason=""),
                name="period_reopen_has_reason",
            ),
        ]

    def __str__(self) -> str:
        state = "reopened" if self.reopened_at else "closed"
        return f"{self.month:%Y-%m} {state}"


class DocumentCounter(models.Model):
    """The last serial number given to a receipt or a statement in one financial year. Its
    row is locked while a number is taken, in the transaction that issues the document, so
    numbers are unique and a rolled-back transaction takes none (no gaps)."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Receipt"
        STATEMENT = "statement", "Statement"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    year = models.PositiveIntegerField(help_text="The calendar year the financial year starts in.")
    last = models.PositiveIntegerField(default=0)

    objects: ClassVar[models.Manager[DocumentCounter]] = models.Manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "year"], name="document_counter_one"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.last}"
