"""Export jobs store a JSON description of an admin list's rows instead of a pickled query.
Unfinished jobs that carry a pickle are failed with a clear message, never unpickled."""

from django.db import migrations, models

# The same text as finance.services.export_jobs.PICKLED_JOB_REFUSED (a migration keeps
# its own copy).
PICKLED_JOB_REFUSED = (
    "Queued by an older version that stored the list's query; such jobs are no longer run."
    " Ask for this export again."
)


def fail_pickled_jobs(apps, schema_editor):  # type: ignore[no-untyped-def]
    ExportJob = apps.get_model("donations", "ExportJob")
    ExportJob.objects.filter(query__isnull=False, status__in=["queued", "running"]).update(
        status="failed", error=PICKLED_JOB_REFUSED
    )


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0023_outbox"),
    ]

    operations = [
        migrations.RunPython(fail_pickled_jobs, migrations.RunPython.noop),
        migrations.RemoveField(model_name="exportjob", name="query"),
        migrations.AddField(
            model_name="exportjob",
            name="selection",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
    ]
