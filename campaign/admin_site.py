"""The site's admin: Django's, with the finance desk's pages gathered into one "Finance"
section of the index and the sidebar (finance/admin_index.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from finance.admin_index import finance_section


class CampaignAdminSite(admin.AdminSite):
    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[Any]:
        app_list = super().get_app_list(request, app_label)
        if app_label is not None:  # one app's own index page: Django's as it is
            return app_list
        return finance_section(request, app_list)
