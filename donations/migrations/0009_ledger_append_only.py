"""The ledger is append-only, enforced by the database: a trigger refuses every DELETE and
every UPDATE except filling in, once, a link learned later (the payout the money arrived
in, the balance transaction of a gift recorded before Stripe reported it)."""

from django.db import migrations

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION donations_ledger_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'ledger entries are never deleted (entry %)', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF (to_jsonb(NEW) - 'payout_id' - 'balance_transaction_id')
            = (to_jsonb(OLD) - 'payout_id' - 'balance_transaction_id')
       AND (OLD.payout_id IS NULL OR NEW.payout_id IS NOT DISTINCT FROM OLD.payout_id)
       AND (OLD.balance_transaction_id = ''
            OR NEW.balance_transaction_id = OLD.balance_transaction_id) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'ledger entries are never updated (entry %)', OLD.id
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""
PG_TRIGGER = """
CREATE TRIGGER donations_ledger_append_only
BEFORE UPDATE OR DELETE ON donations_ledgerentry
FOR EACH ROW EXECUTE FUNCTION donations_ledger_append_only();
"""
PG_DROP = """
DROP TRIGGER IF EXISTS donations_ledger_append_only ON donations_ledgerentry;
DROP FUNCTION IF EXISTS donations_ledger_append_only();
"""

FIXED = (
    "id kind reference project_id donation_id pool_id amount amount_currency settled"
    " settled_currency exchange_rate project_amount occurred_at recorded_at note"
).split()
SQLITE_TRIGGERS = [
    "CREATE TRIGGER donations_ledger_no_delete BEFORE DELETE ON donations_ledgerentry "
    "BEGIN SELECT RAISE(ABORT, 'ledger entries are never deleted'); END;",
    "CREATE TRIGGER donations_ledger_no_update BEFORE UPDATE ON donations_ledgerentry "
    "WHEN NOT ("
    + " AND ".join(f"NEW.{c} IS OLD.{c}" for c in FIXED)
    + ") OR (OLD.payout_id IS NOT NULL AND NEW.payout_id IS NOT OLD.payout_id)"
    " OR (OLD.balance_transaction_id != '' AND NEW.balance_transaction_id IS NOT"
    " OLD.balance_transaction_id) "
    "BEGIN SELECT RAISE(ABORT, 'ledger entries are never updated'); END;",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION, params=None)
        schema_editor.execute(PG_TRIGGER)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS donations_ledger_no_delete")
        schema_editor.execute("DROP TRIGGER IF EXISTS donations_ledger_no_update")


class Migration(migrations.Migration):
    dependencies = [("donations", "0008_ledger_and_payouts")]
    operations = [migrations.RunPython(forwards, backwards)]
