from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DonationsConfig(AppConfig):
    name = "donations"
    verbose_name = "Donations"

    def ready(self) -> None:
        from campaign.groups import staff_groups_ensure

        # After this app's (the last of ours) permissions exist; also runs after flush.
        post_migrate.connect(staff_groups_ensure, sender=self, dispatch_uid="staff_groups")
