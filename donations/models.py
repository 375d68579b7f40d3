from __future__ import annotations

import uuid
from datetime import datetime
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
        return f"{self.amount} to {self.project_id} ({self.status})"

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


class WebhookEvent(models.Model):
    """The durable inbox: every verified Stripe event, stored once, processed after commit."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (type not handled)"
        RETRYING = "retrying", "Retrying"
        FAILED = "failed", "Failed"

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    api_version = models.CharField(max_length=40, blank=True)
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    objects: ClassVar[models.Manager[WebhookEvent]] = models.Manager()

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id}"


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


class TestProviderObject(models.Model):
    """Stripe-shaped objects of the test payment provider (demo and development only).

    Processing re-fetches objects as it would from Stripe; with the test provider they are
    read from here instead.
    """

    __test__ = False  # not a pytest test class

    object_id = models.CharField(max_length=255, primary_key=True)
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[models.Manager[TestProviderObject]] = models.Manager()

    def __str__(self) -> str:
        return self.object_id


class MatchingPoolQuerySet(models.QuerySet["MatchingPool"]):
    def open_for(self, project: Project, at: datetime) -> MatchingPoolQuerySet:
        """Pools matching gifts to this project at this moment, in allocation order:
        the one ending first, then the oldest (a documented, deterministic order)."""
        # A subquery, not a join: no duplicate rows, so callers can lock with FOR UPDATE.
        covering = MatchingPool.projects.through.objects.filter(project_id=project.pk).values(
            "matchingpool_id"
        )
        return self.filter(
            Q(covers_all_projects=True) | Q(pk__in=covering),
            active=True,
            starts_at__lte=at,
            ends_at__gt=at,
            cap_currency=project.currency,
        ).order_by("ends_at", "id")


class MatchingPool(models.Model):
    """A sponsor's pledge to match gifts (ratio 1 = "2X The Impact") until the cap is spent."""

    sponsor_name = models.CharField(max_length=160)
    show_sponsor = models.BooleanField(default=True, help_text="Name the sponsor to donors.")
    cap = MoneyField(max_digits=14, decimal_places=2, default_currency="USD")
    ratio = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(1), help_text="1 = 2X, 2 = 3X."
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    projects = models.ManyToManyField(Project, blank=True, related_name="matching_pools")
    covers_all_projects = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    # Running sum of the ledger, kept on the row the allocations lock. The database refuses
    # any write that would take it past the cap or below zero.
    allocated = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal(0))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MatchingPoolQuerySet.as_manager()

    class Meta:
        ordering = ["ends_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(cap__gt=0), name="pool_cap_positive"),
            models.CheckConstraint(condition=Q(ratio__gt=0), name="pool_ratio_positive"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="pool_window"),
            models.CheckConstraint(
                condition=Q(allocated__gte=0) & Q(allocated__lte=F("cap")),
                name="pool_never_over_allocated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sponsor_name} ({self.multiplier_label})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """An existing pool never writes `allocated` back from memory: only the ledger moves
        it (one relative UPDATE under the row lock). A stale copy saved by the admin or a
        script would otherwise erase matches made since it was loaded, letting the pool
        give past its cap."""
        if self.pk is not None and not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.attname
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in {"allocated", "created_at"}
            ]
        super().save(*args, **kwargs)

    @property
    def currency(self) -> str:
        return str(self.cap.currency)

    @property
    def remaining(self) -> Decimal:
        return Decimal(self.cap.amount) - self.allocated

    @property
    def multiplier_label(self) -> str:
        return f"{(self.ratio + 1).normalize():f}X"


class MatchAllocation(models.Model):
    """The matching ledger: rows are only ever added. A refund or lost dispute adds a
    negative row; a won dispute a positive one. The live match is the sum."""

    class Kind(models.TextChoices):
        ALLOCATE = "allocate", "Match"
        REVERSE = "reverse", "Reversal (refund or dispute)"
        RESTORE = "restore", "Restored (dispute won)"

    pool = models.ForeignKey(MatchingPool, on_delete=models.PROTECT, related_name="allocations")
    donation = models.ForeignKey(
        Donation, on_delete=models.PROTECT, related_name="match_allocations"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[models.Manager[MatchAllocation]] = models.Manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # One match per gift per pool, whatever races or replays happen.
            models.UniqueConstraint(
                fields=["donation", "pool"],
                condition=Q(kind="allocate"),
                name="one_match_per_donation_and_pool",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="reverse", amount__lt=0) | (~Q(kind="reverse") & Q(amount__gt=0))
                ),
                name="allocation_sign_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.pool.currency}"


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
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="payout_lines"
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


class SharedGift(Donation):
    """Gifts that came through a share link, for the per-channel report (no table)."""

    class Meta:
        proxy = True
        verbose_name = "gift by share channel"
        verbose_name_plural = "gifts by share channel"
