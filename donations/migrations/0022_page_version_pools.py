"""Matching pools bump the pages they show on (issue 19): the site for a pool covering all
projects, else the projects it names; a gift's allocation only when the pool runs dry or
is refilled (projects/services/page_version.py)."""

from django.db import migrations

from projects.services import page_version


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    page_version.pool_triggers_create(schema_editor)
    page_version.project_triggers_create(schema_editor, page_version.POOL_PROJECTS)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    page_version.triggers_drop(schema_editor, page_version.POOLS)
    page_version.triggers_drop(schema_editor, page_version.POOL_PROJECTS)


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0021_desk_amount_search"),
        ("projects", "0008_page_version_per_project"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
