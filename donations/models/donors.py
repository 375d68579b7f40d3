"""What the site keeps for a donor outside their gifts: emailed sign-in links, and the
failed-payment notices of a monthly gift."""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from donations.models.gifts import Donation


class SignInLink(models.Model):
    """A donor's emailed sign-in link (donations/services/signin.py). Only the SHA-256 of
    the link's secret is kept; a link is used once, before it expires."""

    email = models.EmailField(db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[models.Manager[SignInLink]] = models.Manager()

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"sign-in link for {self.email}"


class PaymentFailureNotice(models.Model):
    """One email per failed attempt of a monthly gift's invoice (invoice.payment_failed):
    the unique key makes a redelivered or repeated event send nothing more."""

    plan = models.ForeignKey(Donation, on_delete=models.CASCADE, related_name="failure_notices")
    invoice_id = models.CharField(max_length=255)
    attempt = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[models.Manager[PaymentFailureNotice]] = models.Manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["invoice_id", "attempt"], name="one_notice_per_failed_attempt"
            )
        ]

    def __str__(self) -> str:
        return f"payment failed {self.invoice_id} #{self.attempt}"
