from importlib import import_module

from django.apps import AppConfig


class DonationsConfig(AppConfig):
    name = "donations"
    verbose_name = "Donations"

    def import_models(self) -> None:
        super().import_models()
        # The money models' field history (pghistory event models) in their own module.
        import_module("donations.history_models")

    def ready(self) -> None:
        from donations import tasks  # noqa: F401 - registers the tasks queued by name

        # The staff groups are re-created after migrate and flush by stewardship's AppConfig,
        # the last of our apps, once every app's permissions exist.
