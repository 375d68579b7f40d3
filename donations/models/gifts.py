"""A gift: the donation row, its transition log, and the proxy the share-channel report
lists."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField
from djmoney.money import Money

from projects.models import Project
from projects.sharing import CHANNELS, REFERRAL_MAX_LENGTH, SHARE_CODE_LENGTH

# The gifts a project's page lists as supporters. The supporters index is partial on exactly
# this condition, so the page's query reads eight index entries, whatever the number of gifts.
SUPPORTER_STATUSES = ["succeeded", "partially_refunded", "disputed"]
SUPPORTER_CONDITION = Q(status__in=SUPPORTER_STATUSES, counted__gt=0)


class Donation(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")
        REFUNDED = "refunded", _("Refunded")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
        DISPUTED = "disputed", _("Disputed")
        VOIDED = "voided", _("Voided (offline gift recorded by mistake)")

    class Frequency(models.TextChoices):
        ONE_TIME = "one_time", _("One-time")
        MONTHLY = "monthly", _("Monthly")

    class Tribute(models.TextChoices):
        NONE = "", _("No tribute")
        HONOUR = "honour", _("In honour of")
        MEMORY = "memory", _("In memory of")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="donations")
    # The first gift of a monthly plan; each later instalment points back to it.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="instalments"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    frequency = models.CharField(
        max_length=10, choices=Frequency.choices, default=Frequency.ONE_TIME
    )

    amount = MoneyField(max_digits=14, decimal_places=2, default_currency="USD")
    fee_covered = MoneyField(max_digits=14, decimal_places=2, default_currency="USD", default=0)
    cover_fee = models.BooleanField(default=False)

    donor_name = models.CharField(max_length=120)
    donor_email = models.EmailField()
    anonymous = models.BooleanField(default=False)
    show_amount = models.BooleanField(default=True)
    message = models.CharField(max_length=280, blank=True)
    tribute_type = models.CharField(max_length=6, choices=Tribute.choices, blank=True)
    tribute_name = models.CharField(max_length=120, blank=True)
    tribute_notify_email = models.EmailField(blank=True)
    # The language the gift was made in: its receipt, tribute notice and statements are
    # written in it, and Stripe Checkout opens in it.
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")

    # The donate form's idempotency key (made by the donor's browser, static/js/donate-key.js):
    # the same press of Donate posted twice (nginx handing it to another node, a reload) is
    # this one gift. Empty for a form posted without JavaScript; released if checkout failed.
    idempotency_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    # Stripe's identifiers. Unique where one Stripe object can only ever be one gift.
    checkout_session_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    payment_intent_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    charge_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    balance_transaction_id = models.CharField(max_length=255, blank=True)
    customer_id = models.CharField(max_length=255, blank=True)
    subscription_id = models.CharField(max_length=255, blank=True, db_index=True)
    invoice_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    dispute_id = models.CharField(max_length=255, blank=True)
    dispute_status = models.CharField(max_length=40, blank=True)
    subscription_status = models.CharField(max_length=40, blank=True)

    # What Stripe charged, and what it settled (from the balance transaction).
    charged = MoneyField(
        max_digits=14, decimal_places=2, default_currency="USD", null=True, blank=True
    )
    settled = MoneyField(
        max_digits=14, decimal_places=2, default_currency="USD", null=True, blank=True
    )
    stripe_fee = MoneyField(
        max_digits=14, decimal_places=2, default_currency="USD", null=True, blank=True
    )
    net = MoneyField(max_digits=14, decimal_places=2, default_currency="USD", null=True, blank=True)
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=9, null=True, blank=True)
    refunded = MoneyField(max_digits=14, decimal_places=2, default_currency="USD", default=0)

    # What this gift currently adds to the project's totals, in the project's currency.
    # Transitions move the totals by (new - old), so replays add nothing.
    counted = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal(0))
    counted_provisional = models.BooleanField(default=False)

    needs_review = models.BooleanField(default=False)
    review_reason = models.TextField(blank=True)
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    # The receipt's serial number, unique per financial year ("2026-000123"), issued with
    # the receipt in a short transaction of its own (services.receipt_numbers), not in the
    # gift's success; a corrected receipt keeps it with "-C<receipt_corrections>".
    receipt_number = models.CharField(max_length=20, blank=True)
    receipt_corrections = models.PositiveSmallIntegerField(default=0)
    tribute_notified_at = models.DateTimeField(null=True, blank=True)
    # When the matching pools were consulted for this gift (once: a gift that found them dry
    # is not matched later when money returns to a pool).
    match_decided_at = models.DateTimeField(null=True, blank=True)
    # Sharing (projects.sharing): the referral code of the shared link this gift came
    # through and its channel (monthly instalments keep their plan's), and this gift's own
    # code, made when its thank-you page first offers its donor share links.
    referral_channel = models.CharField(
        max_length=10, blank=True, choices=[("", "Not from a shared link"), *CHANNELS.items()]
    )
    referral_code = models.CharField(max_length=REFERRAL_MAX_LENGTH, blank=True)
    share_code = models.CharField(max_length=SHARE_CODE_LENGTH, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    dispute_closed_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[models.Manager[Donation]] = models.Manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["project", "status"]),
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["project", "donor_email"]),
            # The admin's gifts-by-share-channel report: an index-only scan over the referred
            # gifts alone (PostgreSQL; other databases ignore INCLUDE).
            models.Index(
                fields=["referral_channel", "project"],
                include=["status", "counted"],
                condition=~Q(referral_channel=""),
                name="donation_referral_report",
            ),
            # The project page's recent supporters (selectors.recent_supporters).
            models.Index(
                F("project"),
                F("succeeded_at").desc(),
                name="donation_supporters",
                condition=SUPPORTER_CONDITION,
            ),
            # Finance's email search (admin, LOWER(donor_email) = ...) is served by
            # donation_email_lower, (lower(donor_email), succeeded_at), from migration 0012.
            # A trigram index on UPPER(donor_name) for the admin's name search is created by
            # migration 0014 on PostgreSQL only (SQLite has no trigrams).
            # My gifts and the year statement: one donor's gifts, newest first.
            models.Index(fields=["donor_email", "created_at"], name="donation_donor_recent"),
            # The finance desk's search by amount. (Its paid-date range, like the exports, is
            # served by donation_succeeded_at, (succeeded_at, id), from migration 0012.)
            models.Index(fields=["amount", "created_at"], name="donation_amount"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="donation_amount_positive"),
            models.CheckConstraint(condition=Q(refunded__gte=0), name="donation_refunded_nonneg"),
            models.CheckConstraint(condition=Q(counted__gte=0), name="donation_counted_nonneg"),
            models.UniqueConstraint(
                fields=["share_code"],
                condition=~Q(share_code=""),
                name="donation_share_code_unique",
            ),
            models.UniqueConstraint(
                fields=["receipt_number"],
                condition=~Q(receipt_number=""),
                name="donation_receipt_number_unique",
            ),
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # djmoney's defaults are in USD: a EUR gift created without them would say
        # "refunded $0.00" and fail to add its fee cover to the amount.
        if self._state.adding and self.amount is not None:
            currency = self.amount.currency
            for name in ("fee_covered", "refunded"):
                value = getattr(self, name)
                if value is not None and not value.amount and value.currency != currency:
                    setattr(self, name, Money(0, currency))

    def __str__(self) -> str:
        # The project's title (one query unless the project was selected with the gift:
        # lists that show gifts select it) and the status as people read it.
        return f"{self.amount} to {self.project.title} ({self.get_status_display()})"

    @property
    def total_charge(self):  # type: ignore[no-untyped-def]
        """What the donor is asked to pay: the gift plus any processing fee they cover."""
        return self.amount + self.fee_covered

    @property
    def amount_given(self):  # type: ignore[no-untyped-def]
        """What the gift is, as Stripe charged it: net of refunds and without a processing
        fee the donor covered. The amount asked for until Stripe has reported the charge."""
        if self.charged is None:
            return self.amount
        kept = self.charged.amount - self.refunded.amount - self.fee_covered.amount
        return Money(max(kept, Decimal(0)), self.charged.currency)

    @property
    def is_final(self) -> bool:
        return self.status in {self.Status.FAILED, self.Status.EXPIRED}

    @property
    def public_name(self) -> str:
        return "Anonymous" if self.anonymous else self.donor_name


class TransitionLog(models.Model):
    """Every attempted transition, applied or not: a no-op is recorded, never lost."""

    donation = models.ForeignKey(Donation, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField(max_length=40)
    from_status = models.CharField(max_length=20)
    to_status = models.CharField(max_length=20)
    applied = models.BooleanField()
    note = models.CharField(max_length=300, blank=True)
    event_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[models.Manager[TransitionLog]] = models.Manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_status} -> {self.to_status}"


class SharedGift(Donation):
    """Gifts that came through a share link, for the per-channel report (no table)."""

    class Meta:
        proxy = True
        verbose_name = "gift by share channel"
        verbose_name_plural = "gifts by share channel"
