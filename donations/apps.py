from importlib import import_module

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DonationsConfig(AppConfig):
    name = "donations"
    verbose_name = "Donations"

    def import_models(self) -> None:
        super().import_models()
        # The money models' field history (pghistory event models) in their own module.
        import_module("donations.history_models")

    def ready(self) -> None:
        from campaign.groups import staff_groups_ensure
        from donations import tasks  # noqa: F401 - registers the tasks queued by name

        # After this app's (the last of ours) permissions exist; also runs after flush.
        post_migrate.connect(staff_groups_ensure, sender=self, dispatch_uid="staff_groups")
