"""The "close a live project" permission (archive, unpublish or delete a published project,
which ends its giving), granted to Finance; Editors do not get it."""

from django.db import migrations


def grant_finance(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(
        content_type__app_label="projects", codename__in=["change_project", "close_project"]
    )
    for group in Group.objects.filter(name="Finance"):
        group.permissions.add(*perms)


def revoke_finance(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perm = Permission.objects.filter(content_type__app_label="projects", codename="close_project")
    for group in Group.objects.filter(name="Finance"):
        group.permissions.remove(*perm)


class Migration(migrations.Migration):
    dependencies = [("projects", "0008_page_version_per_project")]

    operations = [
        migrations.AlterModelOptions(
            name="project",
            options={
                "ordering": ["-published_at", "title"],
                "permissions": [
                    (
                        "change_project_money",
                        "Can change a project's cost, currency, acres, price per acre and after-goal policy",
                    ),
                    ("close_project", "Can archive, unpublish or delete a published project"),
                ],
            },
        ),
        migrations.RunPython(grant_finance, revoke_finance),
    ]
