from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class CampaignAdminConfig(AdminConfig):
    """django.contrib.admin with the site's own AdminSite (loaded once the apps are ready)."""

    default_site = "campaign.admin_site.CampaignAdminSite"


class CampaignConfig(AppConfig):
    """The project package as an app of its own: its management commands (collectstatic,
    which also writes the outage page nginx serves) come before django.contrib.staticfiles'."""

    name = "campaign"
