"""Page versions per project page, not per site (issue 19): the one row every gift bumped
becomes a row per project plus one for the site (projects/services/page_version.py).

Runs after donations.0017, whose pool triggers it drops with the others; donations.0022
puts per-project ones back on the pools."""

from django.db import migrations, models

from projects.migrations import _page_version_site as legacy
from projects.services import page_version

TABLES = [
    "projects_project",
    "projects_keyspecies",
    "projects_threat",
    "projects_section",
    "projects_photo",
]
TOTALS = "projects_fundingtotals"
LEGACY_POOL_TABLES = ["donations_matchingpool", "donations_matchingpool_projects"]


def legacy_drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    for table in [*TABLES, TOTALS, *LEGACY_POOL_TABLES]:
        legacy.triggers_drop(schema_editor, table)
    legacy.function_drop(schema_editor)


def legacy_create(apps, schema_editor):  # type: ignore[no-untyped-def]
    legacy.function_create(schema_editor)
    for table in TABLES:
        legacy.triggers_create(schema_editor, table)
    legacy.triggers_create(schema_editor, TOTALS, changed_only=True)
    legacy.triggers_create(
        schema_editor, "donations_matchingpool", update_when="OLD.allocated = NEW.allocated"
    )
    legacy.triggers_create(schema_editor, "donations_matchingpool_projects")


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    page_version.functions_create(schema_editor)
    page_version.project_triggers_create(schema_editor, "projects_project", column="id")
    page_version.site_triggers_create(schema_editor, "projects_project")
    for table in TABLES[1:]:
        page_version.project_triggers_create(schema_editor, table)
    page_version.project_triggers_create(schema_editor, TOTALS, changed_only=True)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    for table in [*TABLES, TOTALS]:
        page_version.triggers_drop(schema_editor, table)
    page_version.functions_drop(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0007_translations_copy_english"),
        ("donations", "0017_scale_indexes"),
    ]

    operations = [
        migrations.RunPython(legacy_drop, legacy_create),
        migrations.DeleteModel(name="PageVersion"),
        migrations.CreateModel(
            name="PageVersion",
            fields=[
                ("scope", models.BigIntegerField(primary_key=True, serialize=False)),
                ("version", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
