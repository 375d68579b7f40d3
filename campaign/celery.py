import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campaign.settings")

app = Celery("campaign")
# Every CELERY_* Django setting configures the app (CELERY_TASK_ACKS_LATE -> task_acks_late).
# The beat schedule (every periodic job and how often it runs) is campaign/beat_schedule.py,
# set as CELERY_BEAT_SCHEDULE in campaign/settings.py; queues: campaign/task_routes.py.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _database_connections_check(task: Any = None, **kwargs: Any) -> None:
    """Drop database connections that are broken or past CONN_MAX_AGE, around every task.

    CELERY_DB_REUSE_MAX keeps a worker's connection across tasks (database-bound throughput
    is about four times higher than reconnecting for each), but Celery then never looks at
    it again: after a PostgreSQL restart every task failed with "connection already closed"
    until the worker was restarted. This is what Django does around each web request
    (close_old_connections): a connection on which an error occurred is closed unless it
    still answers, and CONN_HEALTH_CHECKS re-checks a kept one before its first query, so
    the next task reconnects. Tasks run eagerly (demo, tests) are inside someone else's
    request or transaction and are left alone.
    """
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()
