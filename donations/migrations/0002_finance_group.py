"""The "Finance" group: sees donations, settlement figures and the webhook inbox."""

from django.db import migrations

PERMISSIONS = [
    ("donations", "view_donation"),
    ("donations", "change_donation"),
    ("donations", "view_transitionlog"),
    ("donations", "view_webhookevent"),
    ("donations", "change_webhookevent"),
    ("projects", "view_fundingtotals"),
    ("projects", "view_project"),
]


def create_finance(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Finance")
    for app_label, codename in PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def remove_finance(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Finance").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0001_initial"),
        ("projects", "0002_editors_group"),
    ]

    operations = [migrations.RunPython(create_finance, remove_finance)]
