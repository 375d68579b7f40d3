"""Indexes for a million gifts, and the page-version triggers on matching pools.

* ``donation_supporters``: the project page's recent supporters read eight index entries.
* (finance's email search, ``LOWER(donor_email) = ...``, uses 0012's donation_email_lower.)
* ``ledger_reference``, ``payout_line_source``: the ledger's and payout lines' searches.
* ``donation_name_trgm`` (PostgreSQL only, pg_trgm): the name search,
  ``UPPER(donor_name) LIKE UPPER('%...%')``.
* Pools: their banner is on the project page. Gifts move ``allocated`` and the totals in the
  same transaction; the totals' trigger already covers those, so the pool's own trigger
  fires only for edits that leave ``allocated`` alone (and for the pool's projects).
"""

from django.db import migrations, models

from projects.migrations import _page_version_site as page_version

NAME_TRGM = (
    "CREATE INDEX IF NOT EXISTS donation_name_trgm ON donations_donation "
    "USING gin ((UPPER(donor_name::text)) gin_trgm_ops)"
)


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(NAME_TRGM)
    page_version.triggers_create(
        schema_editor,
        "donations_matchingpool",
        update_when="OLD.allocated = NEW.allocated",
    )
    page_version.triggers_create(schema_editor, "donations_matchingpool_projects")


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS donation_name_trgm")
    page_version.triggers_drop(schema_editor, "donations_matchingpool")
    page_version.triggers_drop(schema_editor, "donations_matchingpool_projects")


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0016_referrals"),
        ("projects", "0005_page_version"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="donation",
            index=models.Index(
                models.F("project"),
                models.OrderBy(models.F("succeeded_at"), descending=True),
                condition=models.Q(
                    ("counted__gt", 0),
                    ("status__in", ["succeeded", "partially_refunded", "disputed"]),
                ),
                name="donation_supporters",
            ),
        ),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(fields=["reference"], name="ledger_reference"),
        ),
        migrations.AddIndex(
            model_name="payoutline",
            index=models.Index(fields=["source_id"], name="payout_line_source"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
