"""Existing texts become the English translation (the columns 0003 added start empty)."""

from django.db import migrations
from django.db.models import F

FIELDS = {
    "project": [
        "title",
        "summary",
        "country",
        "habitat",
        "conservation_action",
        "main_threat",
        "hero_alt",
        "hero_caption",
    ],
    "keyspecies": ["common_name"],
    "threat": ["title", "description"],
    "section": ["title", "lead", "body"],
    "photo": ["caption", "alt_text"],
}


def copy_english(apps, schema_editor):
    for model_name, fields in FIELDS.items():
        model = apps.get_model("projects", model_name)
        for field in fields:
            # One UPDATE per column, only where the English column is still empty.
            model.objects.filter(**{f"{field}_en__isnull": True}).update(
                **{f"{field}_en": F(field)}
            )


class Migration(migrations.Migration):
    dependencies = [("projects", "0006_translations")]

    operations = [migrations.RunPython(copy_english, migrations.RunPython.noop)]
