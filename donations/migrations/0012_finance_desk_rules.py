"""The finance desk's rules in the database: the action log refuses updates and deletes;
indexes for the year-end statements (gifts by payment date, a donor's gifts by email in any
case); and the desk's permissions for the Finance group (Editors get none)."""

from django.db import migrations

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION donations_finance_action_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'finance actions are never changed or deleted (action %)', OLD.id
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""
PG_TRIGGER = """
CREATE TRIGGER donations_finance_action_append_only
BEFORE UPDATE OR DELETE ON donations_financeaction
FOR EACH ROW EXECUTE FUNCTION donations_finance_action_append_only();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS donations_finance_action_append_only ON donations_financeaction;
DROP FUNCTION IF EXISTS donations_finance_action_append_only();
"""
SQLITE_TRIGGERS = [
    "CREATE TRIGGER donations_finance_action_no_delete BEFORE DELETE ON donations_financeaction "
    "BEGIN SELECT RAISE(ABORT, 'finance actions are never deleted'); END;",
    "CREATE TRIGGER donations_finance_action_no_update BEFORE UPDATE ON donations_financeaction "
    "BEGIN SELECT RAISE(ABORT, 'finance actions are never changed'); END;",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS donations_finance_action_no_delete;",
    "DROP TRIGGER IF EXISTS donations_finance_action_no_update;",
]
INDEXES = [
    "CREATE INDEX IF NOT EXISTS donation_succeeded_at ON donations_donation (succeeded_at, id)",
    "CREATE INDEX IF NOT EXISTS donation_email_lower ON donations_donation "
    "(lower(donor_email), succeeded_at)",
]
INDEXES_DROP = [
    "DROP INDEX IF EXISTS donation_succeeded_at",
    "DROP INDEX IF EXISTS donation_email_lower",
]

FINANCE_PERMISSIONS = [
    "view_financeaction",
    "view_refundrequest",
    "view_statementrun",
    "view_statementsent",
    "view_donationhistory",
    "view_matchingpoolhistory",
    "view_payouthistory",
    "view_donor_contact",
    "export_finance",
    "refund_donation",
    "send_statements",
    "record_offline_gift",
    "view_finance_dashboard",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION, params=None)
        schema_editor.execute(PG_TRIGGER)
    elif vendor == "sqlite":
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement)
    for statement in INDEXES:
        schema_editor.execute(statement)
    grant(apps)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)
    for statement in INDEXES_DROP:
        schema_editor.execute(statement)


def grant(apps):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Finance")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="donations", codename__in=FINANCE_PERMISSIONS
        )
    )


class Migration(migrations.Migration):
    dependencies = [("donations", "0011_finance_desk")]

    operations = [migrations.RunPython(forwards, backwards)]
