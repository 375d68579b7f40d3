"""sitemap.xml (Django's sitemaps framework): the project list and every published project.

URLs are on ``settings.SITE_URL``, whatever host the sitemap was fetched from."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet
from django.urls import reverse

from projects.models import Project


class _OnSiteUrl(Sitemap):
    # Every page in each of LANGUAGES (English unprefixed, Spanish under /es/), each entry
    # listing its alternates (xhtml:link hreflang) and an x-default.
    i18n = True
    alternates = True
    x_default = True

    def get_domain(self, site: Any = None) -> str:
        return urlsplit(settings.SITE_URL).netloc

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SITE_URL).scheme or "https"


class ProjectSitemap(_OnSiteUrl):
    changefreq = "daily"  # the funding figures move with every gift
    priority = 0.8

    def items(self) -> QuerySet[Project]:
        # Only what the page needs: no summaries or images loaded for thousands of rows.
        return Project.objects.published().only("slug", "updated_at").order_by("pk")

    def lastmod(self, item: Project) -> datetime:
        return item.updated_at


class PagesSitemap(_OnSiteUrl):
    changefreq = "daily"
    priority = 1.0

    def items(self) -> list[str]:
        return ["projects:list"]

    def location(self, item: str) -> str:  # type: ignore[override]
        return reverse(item)


SITEMAPS = {"pages": PagesSitemap, "projects": ProjectSitemap}
