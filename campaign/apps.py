from django.contrib.admin.apps import AdminConfig


class CampaignAdminConfig(AdminConfig):
    """django.contrib.admin with the site's own AdminSite (loaded once the apps are ready)."""

    default_site = "campaign.admin_site.CampaignAdminSite"
