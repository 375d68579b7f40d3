from django.apps import AppConfig
from django.db.models.signals import post_migrate


class StewardshipConfig(AppConfig):
    name = "stewardship"
    verbose_name = "Stewardship: project updates"

    def ready(self) -> None:
        from campaign.groups import staff_groups_ensure
        from stewardship import tasks  # noqa: F401 - registers the tasks queued by name

        # After this app's (the last of ours) permissions exist; also runs after flush.
        post_migrate.connect(staff_groups_ensure, sender=self, dispatch_uid="staff_groups")
