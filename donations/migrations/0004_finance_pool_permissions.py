"""Only Finance (and superusers) may create or change matching pools."""

from django.db import migrations

PERMISSIONS = ["add_matchingpool", "change_matchingpool", "view_matchingpool", "view_matchallocation"]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Finance")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="donations", codename__in=PERMISSIONS)
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="Finance"):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="donations", codename__in=PERMISSIONS)
        )


class Migration(migrations.Migration):
    dependencies = [("donations", "0003_matching")]

    operations = [migrations.RunPython(grant, revoke)]
