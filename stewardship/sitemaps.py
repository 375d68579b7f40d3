"""Public updates in sitemap.xml (added to projects' SITEMAPS by campaign/urls.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from projects.sitemaps import _OnSiteUrl
from stewardship import selectors
from stewardship.models import Update

SITEMAP_LIMIT = 5000


class UpdateSitemap(_OnSiteUrl):
    changefreq = "monthly"
    priority = 0.6

    def items(self) -> Any:
        return selectors.updates_public(SITEMAP_LIMIT)

    def lastmod(self, item: Update) -> datetime:
        return item.updated_at
