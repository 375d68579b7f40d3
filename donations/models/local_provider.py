"""The local test payment provider's store of Stripe-shaped objects."""

from __future__ import annotations

from typing import ClassVar

from django.db import models


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
