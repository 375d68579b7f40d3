"""Rebuild the photo renditions (JPEG/PNG, WebP, AVIF, social card) of every project."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Model, QuerySet

from projects.models import Photo, Project
from projects.services.images import photo_renditions_refresh, project_hero_refresh

M = TypeVar("M", bound=Model)


def in_pages(rows: QuerySet[M], size: int = 200) -> Iterator[M]:
    """Every row, by primary key, a page of ``size`` per query. Not ``.iterator()``: its
    server-side cursor, read in autocommit while the loop writes, would need the same
    server connection for every fetch, which PgBouncer's transaction pooling does not give."""
    last: Any = None
    while True:
        page = rows.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        batch = list(page[:size])
        yield from batch
        if len(batch) < size:
            return
        last = batch[-1].pk


class Command(BaseCommand):
    help = (
        "Rebuild photo renditions, e.g. after upgrading to WebP/AVIF or changing "
        "IMAGE_RENDITION_WIDTHS. Old rendition files are left in storage."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", help="Only this project (its slug).")
        parser.add_argument(
            "--missing", action="store_true", help="Only images without WebP renditions."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        projects = Project.objects.exclude(hero_image="")
        photos = Photo.objects.select_related("project")
        if options["project"]:
            if not Project.objects.filter(slug=options["project"]).exists():
                raise CommandError(f"No project with the slug {options['project']!r}")
            projects = projects.filter(slug=options["project"])
            photos = photos.filter(project__slug=options["project"])
        heroes = failed = done = 0
        for project in in_pages(projects):
            if options["missing"] and "social" in (project.hero_renditions or {}):
                continue
            try:
                project_hero_refresh(project=project)
                heroes += 1
            except OSError as exc:  # a file missing from storage: say so, carry on
                failed += 1
                self.stderr.write(f"{project.slug} hero: {exc}")
        for photo in in_pages(photos):
            if options["missing"] and "webp" in (photo.renditions or {}):
                continue
            try:
                photo_renditions_refresh(photo=photo)
                done += 1
            except OSError as exc:
                failed += 1
                self.stderr.write(f"photo {photo.pk} of {photo.project.slug}: {exc}")
        self.stdout.write(f"Rebuilt {heroes} hero image(s) and {done} photo(s).")
        if failed:
            raise CommandError(f"{failed} image(s) could not be read; see above.")
