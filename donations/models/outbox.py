"""The transactional outbox: background work a state change must cause, written in the
change's own transaction and published to the broker after it commits
(donations/services/outbox.py). A broker outage delays the work; it cannot lose it."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxMessage(models.Model):
    """One task to publish (by name, with JSON arguments); ``sent_at`` once the broker took
    it. Sent rows are pruned after a week (beat: outbox_prune)."""

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True, default="")

    objects: ClassVar[models.Manager[OutboxMessage]] = models.Manager()

    class Meta:
        indexes = [
            # The relay's query (unsent, oldest first) reads only the few unsent rows, however
            # many millions were sent; the prune's reads sent rows by age.
            models.Index(
                fields=["created_at"], name="outbox_unsent", condition=Q(sent_at__isnull=True)
            ),
            models.Index(
                fields=["sent_at"], name="outbox_sent", condition=Q(sent_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"
