"""The public pages' cache version and the triggers that move it (projects/models.py
PageVersion, projects/services/page_version.py)."""

from django.db import migrations, models

from projects.migrations import _page_version_site as page_version

TABLES = [
    "projects_project",
    "projects_keyspecies",
    "projects_threat",
    "projects_section",
    "projects_photo",
]
# The totals row is rewritten by every gift; a write that changes nothing does not count.
TOTALS = "projects_fundingtotals"


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    page_version.function_create(schema_editor)
    for table in TABLES:
        page_version.triggers_create(schema_editor, table)
    page_version.triggers_create(schema_editor, TOTALS, changed_only=True)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    for table in [*TABLES, TOTALS]:
        page_version.triggers_drop(schema_editor, table)
    page_version.function_drop(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0004_hero_dimensions"),
    ]

    operations = [
        migrations.CreateModel(
            name="PageVersion",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("version", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
