"""The finance desk's own records: the append-only action log, refund requests from the
desk, year-end statement runs, background exports, offline gifts and their batches.

The models moved here from ``donations`` and keep its app label (``Meta.app_label``), so
their tables, migrations and permission names (``donations.export_finance``...) are
unchanged. The money models' field history is ``donations/history_models.py``.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from djmoney.models.fields import MoneyField

import donations.models as base_models
from donations.models import Donation


class AppendOnly(Exception):
    """A finance record that may only ever be added to."""


class FinanceAction(models.Model):
    """Who did what, when: one row per finance action. Never updated or deleted (the
    database refuses it too, see migration 0009)."""

    class Kind(models.TextChoices):
        EXPORT = "export", "Export"
        REFUND = "refund", "Refund requested"
        CANCEL_MONTHLY = "cancel_monthly", "Monthly gift cancelled"
        RECEIPT_RESEND = "receipt_resend", "Receipt re-sent"
        STATEMENT_RUN = "statement_run", "Statement run"
        STATEMENT_RESEND = "statement_resend", "Statement re-sent"
        OFFLINE_GIFT = "offline_gift", "Offline gift recorded"
        OFFLINE_VOID = "offline_void", "Offline gift voided"
        BATCH_CLOSE = "batch_close", "Offline batch closed"
        POOL_CHANGE = "pool_change", "Matching pool changed"
        PERIOD_CLOSE = "period_close", "Month closed"
        PERIOD_REOPEN = "period_reopen", "Month reopened"
        NEEDS_REVIEW = "needs_review", "Needs-review changed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="finance_actions",
    )
    # The actor's name when it happened ("command: export_donations" for the CLI).
    actor_label = models.CharField(max_length=150)
    summary = models.CharField(max_length=300)
    target = models.CharField(max_length=255, blank=True, db_index=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[models.Manager[FinanceAction]] = models.Manager()

    class Meta:
        app_label = "donations"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="finance_action_newest"),
            models.Index(fields=["kind", "-created_at"], name="finance_action_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label}: {self.summary}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("Finance actions are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnly("Finance actions are never deleted")


class RefundRequest(models.Model):
    """One refund finance asked for. Its idempotency key is made with the form, so a double
    click or a retry sends the same request to Stripe; the refund is pending until Stripe's
    event has moved the gift's refunded figure."""

    class State(models.TextChoices):
        REQUESTED = "requested", "Requested (not yet accepted by the provider)"
        SENT = "sent", "Accepted by the provider"
        FAILED = "failed", "Refused by the provider"

    class Reason(models.TextChoices):
        REQUESTED_BY_CUSTOMER = "requested_by_customer", "The donor asked"
        DUPLICATE = "duplicate", "Duplicate gift"
        FRAUDULENT = "fraudulent", "Fraudulent"
        OTHER = "other", "Other"

    idempotency_key = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    donation = models.ForeignKey(Donation, on_delete=models.PROTECT, related_name="refund_requests")
    amount = MoneyField(max_digits=14, decimal_places=2, default_currency="USD")
    reason = models.CharField(max_length=24, choices=Reason.choices)
    note = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.REQUESTED)
    provider_refund_id = models.CharField(max_length=255, blank=True)
    provider_status = models.CharField(max_length=20, blank=True)
    error = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[models.Manager[RefundRequest]] = models.Manager()

    class Meta:
        app_label = "donations"
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_request_positive"),
        ]
        indexes = [models.Index(fields=["donation", "state"], name="refund_request_donation")]

    def __str__(self) -> str:
        return f"Refund {self.amount} of {self.donation_id} ({self.state})"


class StatementRun(models.Model):
    """Finance sending one financial year's statements (a Celery job with progress)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    year = models.PositiveIntegerField(help_text="The calendar year the financial year starts in.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[models.Manager[StatementRun]] = models.Manager()

    class Meta:
        app_label = "donations"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Statements {self.year} ({self.status} {self.done}/{self.total})"


class StatementSent(models.Model):
    """A donor's statement for a year went out: each once, unless re-sent explicitly."""

    donor_email = models.EmailField()
    year = models.PositiveIntegerField()
    run = models.ForeignKey(
        StatementRun, null=True, blank=True, on_delete=models.PROTECT, related_name="statements"
    )
    sent_to = models.EmailField()
    resent_count = models.PositiveIntegerField(default=0)
    # The statement's serial number in its financial year ("2026-S000012"), given when it
    # is first sent, in that transaction (donations.services.receipt_numbers).
    number = models.CharField(max_length=20, blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[models.Manager[StatementSent]] = models.Manager()

    class Meta:
        app_label = "donations"
        ordering = ["-sent_at"]
        verbose_name = "statement sent"
        verbose_name_plural = "statements sent"
        constraints = [
            models.UniqueConstraint(fields=["donor_email", "year"], name="statement_once"),
        ]

    def __str__(self) -> str:
        return f"{self.donor_email} {self.year}"


class FinanceDesk(models.Model):
    """No table: carries the finance desk's own permissions."""

    class Meta:
        app_label = "donations"
        managed = False
        verbose_name = "finance desk"
        verbose_name_plural = "finance desk"
        default_permissions = ()
        permissions = [
            ("view_donor_contact", "See donors' contact details"),
            ("export_finance", "Export donations, the ledger and journals"),
            ("refund_donation", "Refund gifts and cancel monthly gifts"),
            ("send_statements", "Send receipts and year-end statements"),
            ("record_offline_gift", "Record and void offline gifts"),
            ("view_finance_dashboard", "See the finance dashboard"),
            ("close_period", "Close and reopen accounting months"),
        ]

    def __str__(self) -> str:
        return "Finance desk"


class ExportJob(models.Model):
    """A large export running in the background; its file is kept until ``expires_at`` and
    handed only to the person who asked for it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    token = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=12)  # donations | ledger | journal
    format = models.CharField(max_length=8)  # csv | xlsx
    filters = models.JSONField(default=dict, blank=True)
    # "Export these" from an admin list: a JSON description of its rows ({"ids": [...]} or
    # {"changelist": {param: [values]}}), rebuilt by the worker through the same admin list
    # (finance/admin/export_selection.py). Never a pickled query: a row names data, not code.
    selection = models.JSONField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    objects: ClassVar[models.Manager[ExportJob]] = models.Manager()

    class Meta:
        app_label = "donations"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="export_job_mine")]

    def __str__(self) -> str:
        return f"{self.kind} {self.format} ({self.status})"

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.done else 0)


class OfflineBatch(models.Model):
    """A paying-in batch (a bank deposit of cheques, a day's transfers): gifts are added
    until its count and total agree with what was expected, and only then can it close."""

    name = models.CharField(max_length=120, help_text="e.g. the paying-in slip's number")
    expected_count = models.PositiveIntegerField()
    expected_total = MoneyField(max_digits=14, decimal_places=2, default_currency="USD")
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects: ClassVar[models.Manager[OfflineBatch]] = models.Manager()

    class Meta:
        app_label = "donations"
        ordering = ["-created_at"]
        verbose_name_plural = "offline batches"
        constraints = [
            models.CheckConstraint(
                condition=Q(expected_total__gt=0), name="offline_batch_total_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.expected_count} gifts, {self.expected_total})"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class OfflineGift(models.Model):
    """A gift that did not go through Stripe. It is a Donation (so it counts, is matched,
    receipted and exported like any gift) with these details; voided, never deleted."""

    class Method(models.TextChoices):
        CHEQUE = "cheque", "Cheque"
        BANK_TRANSFER = "bank_transfer", "Bank transfer"
        CASH = "cash", "Cash"
        DAF = "daf", "Donor-advised fund"

    donation = models.OneToOneField(Donation, on_delete=models.PROTECT, related_name="offline")
    batch = models.ForeignKey(
        OfflineBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="gifts"
    )
    method = models.CharField(max_length=16, choices=Method.choices)
    reference = models.CharField(max_length=120, blank=True, help_text="cheque number, bank ref")
    received_on = models.DateField()
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_reason = models.CharField(max_length=300, blank=True)

    objects: ClassVar[models.Manager[OfflineGift]] = models.Manager()

    class Meta:
        app_label = "donations"
        ordering = ["-recorded_at"]
        indexes = [models.Index(fields=["batch"], name="offline_gift_batch")]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.reference or ''} {self.donation_id}".strip()


pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    fields=["method", "reference", "received_on", "note", "batch", "voided_at", "void_reason"],
    model_name="OfflineGiftHistory",
    obj_field=pghistory.ObjForeignKey(related_name="history"),
)(OfflineGift)
OfflineGiftHistory: Any = getattr(base_models, "OfflineGiftHistory")  # noqa: B009
