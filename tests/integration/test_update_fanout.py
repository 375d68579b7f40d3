"""An update's fan-out through real Celery prefork workers on PostgreSQL and Redis: the worker
is killed in the middle of 2,000 emails and a new one carries on; every address gets exactly
one email."""

from __future__ import annotations

import pytest
from django.db import connection

from donations.services.seed import gifts_seed
from projects.models import Project
from stewardship.models import Delivery, Update
from stewardship.services.publishing import update_publish
from tests.integration.conftest import Stack, wait_for
from tests.integration.mail_recorder import CREATE, TABLE

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
DONORS = 2_000


def _recorded() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), count(DISTINCT address) FROM {TABLE}")  # noqa: S608
        total, distinct = cursor.fetchone()
    return int(total), int(distinct)


@pytest.fixture
def sent_mail_table() -> object:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(CREATE)
    yield TABLE
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def test_a_worker_killed_mid_fan_out_sends_each_address_exactly_once(
    stack: Stack, project: Project, sent_mail_table: object
) -> None:
    gifts_seed(project, DONORS)
    update = Update.objects.create(
        project=project, slug="frog", title_en="The frog", body_en="<p>Found.</p>"
    )
    published = update_publish(update_id=update.pk)  # the deliveries; the workers send them
    assert published.queued == DONORS
    env = stack.env(
        EMAIL_BACKEND="tests.integration.mail_recorder.RecordingBackend",
        UPDATE_EMAIL_CHUNK="100",
        UPDATE_EMAIL_RATE="100000",
        UPDATE_SEND_STALL_SECONDS="0",
    )
    first = stack.worker(env)
    # As beat would; twice, so that two chains of chunks run side by side on the worker's
    # two processes and claim from the same queued rows.
    stack.celery_call(env, "stewardship.tasks.updates_resume")
    stack.celery_call(env, "stewardship.tasks.updates_resume")

    wait_for(
        lambda: _recorded()[0] >= 300,
        timeout=60,
        what="the first worker to send 300 emails",
        diagnostics=stack.diagnostics,
    )
    stack.kill(first)  # SIGKILL the worker's whole process group mid-fan-out
    killed_at, _ = _recorded()
    assert killed_at < DONORS, "the fan-out finished before the kill: make it longer"
    queued = Delivery.objects.filter(update=update, status=Delivery.Status.QUEUED).count()
    assert queued > 0

    # A new worker; the killed one's unacknowledged chunk waits for Redis's visibility
    # timeout, so the recovery is beat's resume job, run here through the broker.
    stack.worker(env)
    stack.celery_call(env, "stewardship.tasks.updates_resume")
    stack.celery_call(env, "stewardship.tasks.updates_resume")
    wait_for(
        lambda: not Delivery.objects.filter(update=update, status="queued").exists(),
        timeout=180,
        what="the fan-out to finish",
        diagnostics=stack.diagnostics,
    )
    total, distinct = _recorded()
    assert (total, distinct) == (DONORS, DONORS)
    statuses = Delivery.objects.filter(update=update).values_list("status", flat=True)
    assert list(statuses.distinct()) == ["sent"]
    assert statuses.count() == DONORS
