"""Publishing an update: the progress block frozen, the deliveries written, the fan-out
started after commit; and the daily job (scheduled updates, donors-only ones turning public)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from stewardship.models import Update
from stewardship.services.fanout import deliveries_create
from stewardship.services.progress import progress_freeze

logger = logging.getLogger(__name__)


class PublishRefused(Exception):
    """The update cannot be published as it stands (the message says why)."""


@dataclass(frozen=True)
class Published:
    update: Update
    queued: int  # deliveries written by this call (0 when it was already published)
    already: bool


def update_publish(
    *, update_id: int, fan_out: Callable[[int], object] | None = None, user: object = None
) -> Published:
    """Publish the update once: freeze its progress block, write one delivery per donor
    address (audience "donors"), and after commit start the fan-out (``fan_out(update_id)``,
    the caller's way to queue the first chunk: services import no task module).

    Two editors pressing "publish" together (or the daily job and an editor): the row lock
    makes the second wait, re-read, find it published and return without writing anything."""
    with transaction.atomic():
        update = Update.objects.select_for_update().select_related("project").get(pk=update_id)
        if update.status == Update.Status.PUBLISHED:
            return Published(update, 0, already=True)
        if not update.title or not update.body:
            raise PublishRefused("An update needs a title and a text before it is published.")
        now = timezone.now()
        update.status = Update.Status.PUBLISHED
        update.published_at = now
        update.progress = progress_freeze(update.project)
        fields = ["status", "published_at", "progress", "updated_at"]
        if user is not None and getattr(user, "pk", None):
            update.last_editor_id = user.pk  # type: ignore[attr-defined]
            fields.append("last_editor")
        queued = 0
        if update.audience == Update.Audience.DONORS:
            queued = deliveries_create(update=update)
            update.emails_queued_at = now
            update.sending_heartbeat_at = now
            fields += ["emails_queued_at", "sending_heartbeat_at"]
        update.save(update_fields=fields)
        if queued and fan_out is not None:
            transaction.on_commit(lambda: fan_out(update_id))
    logger.info("Update %s published; %s emails queued", update_id, queued)
    return Published(update, queued, already=False)


def updates_daily(*, fan_out: Callable[[int], object] | None = None) -> dict[str, int]:
    """The daily job: publish scheduled updates whose date has come, and make donors-only
    updates public on their date (one conditional UPDATE: nothing else to lock)."""
    today = timezone.localdate()
    due = list(
        Update.objects.filter(status=Update.Status.SCHEDULED, publish_on__lte=today).values_list(
            "pk", flat=True
        )
    )
    published = 0
    for pk in due:
        try:
            published += not update_publish(update_id=pk, fan_out=fan_out).already
        except PublishRefused:
            logger.warning("Scheduled update %s is not ready to publish", pk)
    opened = Update.objects.filter(
        status=Update.Status.PUBLISHED,
        visibility=Update.Visibility.DONORS,
        public_from__lte=today,
    ).update(visibility=Update.Visibility.PUBLIC)
    return {"published": published, "made_public": opened}
