from django.db import migrations, models
from django.db.models import F


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Every gift that has succeeded had its pools consulted (whatever it is now: disputed,
    refunded), unless its value was still unknown (a foreign-currency gift Stripe has not
    settled yet): never match them later."""
    Donation = apps.get_model("donations", "Donation")
    Donation.objects.filter(
        succeeded_at__isnull=False, counted_provisional=False, match_decided_at__isnull=True
    ).update(match_decided_at=F("succeeded_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0006_tribute_notified_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="donation",
            name="match_decided_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
