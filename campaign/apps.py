from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.core import checks


class CampaignAdminConfig(AdminConfig):
    """django.contrib.admin with the site's own AdminSite (loaded once the apps are ready),
    and the project's own deploy checks (campaign/deploy_checks.py)."""

    default_site = "campaign.admin_site.CampaignAdminSite"

    def ready(self) -> None:
        super().ready()
        from campaign.deploy_checks import deploy_check

        checks.register(deploy_check, checks.Tags.security, deploy=True)


class CampaignConfig(AppConfig):
    """The project package as an app of its own: its management commands (collectstatic,
    which also writes the outage page nginx serves) come before django.contrib.staticfiles'."""

    name = "campaign"
