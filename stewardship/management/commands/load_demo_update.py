"""Publish the demo's project update on the seed project (load_demo --funded runs it)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from projects.models import Project
from projects.services.demo import SEED_SLUG
from stewardship.services.demo import demo_update_publish
from stewardship.services.fanout import deliveries_by_status
from stewardship.tasks import fan_out_start


class Command(BaseCommand):
    help = "Publish the demo update on the seed project and email it to its donors. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(slug=SEED_SLUG).first()
        if project is None:
            raise CommandError("Run load_demo first: the seed project is missing")
        done = demo_update_publish(project=project, fan_out=fan_out_start)
        counts = deliveries_by_status(done.update)
        self.stdout.write(
            f"Project update published: {done.update.get_absolute_url()} "
            f"({counts['sent']} emailed, {counts['queued']} queued, {counts['skipped']} skipped)"
        )
