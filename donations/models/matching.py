"""2X matching: a sponsor's pool and its append-only allocations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from django.db import models
from django.db.models import F, Q
from djmoney.models.fields import MoneyField

from donations.models.gifts import Donation
from projects.models import Project


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
