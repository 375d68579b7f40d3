"""The recipient index on gifts, the page-version triggers on updates, the staff groups'
permissions for updates."""

from django.db import migrations

from projects.services.page_version import project_triggers_create, triggers_drop

# stewardship.selectors.recipients: a project's donor addresses in order, each address's
# latest gift first, with its language, read from the index alone. Partial on exactly
# selectors.DONOR_CONDITION. (PostgreSQL keeps the language in the index; SQLite, the demo,
# reads it from the table.)
RECIPIENTS_PG = (
    "CREATE INDEX donation_update_recipients ON donations_donation "
    "(project_id, donor_email, created_at DESC) INCLUDE (language) "
    "WHERE status IN ('succeeded', 'partially_refunded') AND donor_email <> ''"
)
RECIPIENTS_SQLITE = (
    "CREATE INDEX donation_update_recipients ON donations_donation "
    "(project_id, donor_email, created_at DESC) "
    "WHERE status IN ('succeeded', 'partially_refunded') AND donor_email <> ''"
)
TABLE = "stewardship_update"
EDITOR_CODENAMES = [f"{a}_update" for a in ("add", "change", "delete", "view")] + [
    "view_delivery"
]
FINANCE_CODENAMES = ["view_update", "view_delivery"]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(RECIPIENTS_PG if vendor == "postgresql" else RECIPIENTS_SQLITE)
    # An update shows on its project's page: it moves that page's version only.
    project_triggers_create(schema_editor, TABLE, changed_only=True)


def backwards(apps, schema_editor):
    schema_editor.execute("DROP INDEX IF EXISTS donation_update_recipients")
    triggers_drop(schema_editor, TABLE)


def groups_grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in (("Editors", EDITOR_CODENAMES), ("Finance", FINANCE_CODENAMES)):
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label="stewardship", codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("stewardship", "0001_updates"),
        ("donations", "0021_desk_amount_search"),
        ("projects", "0008_page_version_per_project"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.RunPython(groups_grant, migrations.RunPython.noop),
    ]
