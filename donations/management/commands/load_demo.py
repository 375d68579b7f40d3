"""Load the demo content: the seed project (and, with --funded, its funded state)."""

from __future__ import annotations

import secrets
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from donations.providers import is_test_provider
from donations.services.demo import demo_funding_complete, demo_pool_open
from projects.services.demo import demo_project_load


class Command(BaseCommand):
    help = "Create or refresh the demo project from the seed page. Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--staff",
            action="store_true",
            help="Create (or reset) the demo logins admin, finance and editor and print their "
            "new passwords.",
        )
        parser.add_argument(
            "--funded",
            action="store_true",
            help="Give through the test checkout until the project is fully funded (the seed's "
            "state: $303,600 raised of $303,600).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        project = demo_project_load()
        self.stdout.write(self.style.SUCCESS(f"Demo project ready: /projects/{project.slug}/"))
        pool = demo_pool_open(project=project)
        self.stdout.write(
            f"2X matching pool open: {pool.sponsor_name}, {pool.remaining} {pool.currency} left."
        )
        if options["funded"]:
            if not is_test_provider():
                raise CommandError(
                    "--funded gives through the test payment provider; unset STRIPE_SECRET_KEY"
                )
            gifts = demo_funding_complete(project=project)
            self.stdout.write(f"Funded through the test checkout with {gifts} new gift(s).")
            if apps.is_installed("stewardship"):
                # Its first project update, emailed to the demo donors (by the command's
                # name: donations imports nothing from stewardship).
                call_command("load_demo_update", stdout=self.stdout)
        if options["staff"]:
            for username, group, role in DEMO_STAFF:
                password = self._staff(username, group)
                self.stdout.write(
                    self.style.WARNING(
                        f"{role} login for {settings.SITE_URL}/{settings.ADMIN_URL}  "
                        f"user: {username}  password: {password}"
                    )
                )

    def _staff(self, username: str, group: str | None) -> str:
        """Create or reset one demo login (new random password each time)."""
        password = secrets.token_urlsafe(12)
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.org"}
        )
        user.is_staff = True
        user.is_superuser = group is None
        user.set_password(password)
        user.save()
        if group is not None:
            user.groups.set([Group.objects.get(name=group)])
        return password


# The demo's staff: a superuser, a Finance officer and an Editor, so each role can be tried.
DEMO_STAFF = [
    ("admin", None, "Staff (superuser)"),
    ("finance", "Finance", "Finance"),
    ("editor", "Editors", "Editor"),
]
