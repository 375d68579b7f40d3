from django.apps import AppConfig


class FinanceConfig(AppConfig):
    """The finance officer's desk. Its models keep the ``donations`` app label (their tables
    and permissions predate this app); its admin pages form the admin's "Finance" section."""

    name = "finance"
    verbose_name = "Finance"

    def ready(self) -> None:
        from finance import tasks  # noqa: F401 - registers the tasks queued by name
