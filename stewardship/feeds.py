"""Atom feeds (django.contrib.syndication): one per project and one for the site, listing
public updates only (a donors-only update joins them on its date)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext

from projects.models import Project
from stewardship import selectors
from stewardship.models import Update

FEED_ITEMS = 20


class _UpdatesFeed(Feed):
    feed_type = Atom1Feed

    def item_title(self, item: Update) -> str:
        return item.title

    def item_description(self, item: Update) -> str:
        return item.body  # sanitised on save

    def item_link(self, item: Update) -> str:
        return item.get_absolute_url()

    def item_pubdate(self, item: Update) -> datetime | None:
        return item.published_at

    def item_updateddate(self, item: Update) -> datetime:
        return item.updated_at

    def item_author_name(self, item: Update) -> str:
        return str(settings.ORGANISATION_NAME)


class ProjectUpdatesFeed(_UpdatesFeed):
    def get_object(self, request: HttpRequest, slug: str) -> Project:  # type: ignore[override]
        return get_object_or_404(Project.objects.published(), slug=slug)

    def title(self, obj: Project) -> str:
        return gettext("Updates: %(project)s") % {"project": obj.title}

    def link(self, obj: Project) -> str:
        return obj.get_absolute_url() + "updates/"

    def subtitle(self, obj: Project) -> str:
        return gettext("What your gifts did: news from %(project)s.") % {"project": obj.title}

    def items(self, obj: Project) -> QuerySet[Update]:
        return selectors.updates_listed(obj, donor=False)[:FEED_ITEMS]


class SiteUpdatesFeed(_UpdatesFeed):
    def title(self) -> str:
        return gettext("Updates from %(organisation)s") % {
            "organisation": settings.ORGANISATION_NAME
        }

    def link(self) -> str:
        return "/projects/"

    def subtitle(self) -> str:
        return gettext("What donors' gifts did, project by project.")

    def items(self) -> Any:
        return selectors.updates_public(FEED_ITEMS)
