from django.db import migrations, models
from django.db.models import F


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Gifts that already counted have had their pools consulted: never match them later."""
    Donation = apps.get_model("donations", "Donation")
    Donation.objects.filter(
        succeeded_at__isnull=False, counted__gt=0, match_decided_at__isnull=True
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
