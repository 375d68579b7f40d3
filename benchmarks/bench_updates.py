"""Project update emails: one update fanned out to a 10,000-donor project, every email made
(its personal line, unsubscribe URL, both parts), claimed, sent and recorded, through
Django's no-op (dummy) email backend; against the baseline, in the same run, of sending
10,000 bare two-part messages through the same backend, and of the floor that sending
exactly once costs: per row, one transaction that locks it and marks it, no email made. Also
the recipient query's time at that size. Tasks run in-process (the fan-out's logic, not the
broker); one round (a 10,000-email fan-out is long on a shared 2-core machine).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from benchmarks import common

DONORS = 10_000
ROUNDS = 1


def _bare(n: int) -> float:
    from django.core.mail import EmailMultiAlternatives, get_connection

    connection = get_connection()
    started = time.perf_counter()
    for i in range(n):
        message = EmailMultiAlternatives(
            "Subject", "Body", to=[f"bare{i}@example.org"], connection=connection
        )
        message.attach_alternative("<p>Body</p>", "text/html")
        message.send()
    return time.perf_counter() - started


def _claims_only(project: Any, n: int) -> float:
    """The floor of sending exactly once: per row, the transaction that locks it (SKIP
    LOCKED) and marks it, with no email made at all."""
    from django.db import transaction

    from stewardship.models import Delivery, Update
    from stewardship.services.fanout import deliveries_create

    update = Update.objects.create(
        project=project, slug=f"floor-{time.time_ns()}", title_en="Floor", body_en="<p>-</p>"
    )
    deliveries_create(update=update)
    ids = list(Delivery.objects.filter(update=update).order_by("id").values_list("pk", flat=True))
    assert len(ids) == n, len(ids)
    started = time.perf_counter()
    for pk in ids:
        with transaction.atomic():
            row = Delivery.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            assert row is not None
            Delivery.objects.filter(pk=pk, status="queued").update(status="sent")
    return time.perf_counter() - started


def _fan_out(project: Any, n: int) -> tuple[float, float]:
    from stewardship import selectors
    from stewardship.models import Delivery, Update
    from stewardship.services.fanout import deliveries_send_chunk
    from stewardship.services.publishing import update_publish

    update = Update.objects.create(
        project=project,
        slug=f"bench-{time.time_ns()}",
        title_en="Bench update",
        body_en="<p>The survey found the frog.</p>",
    )
    started = time.perf_counter()
    count = sum(1 for _ in selectors.recipients(project))
    query_s = time.perf_counter() - started
    assert count == n, count
    started = time.perf_counter()
    update_publish(update_id=update.pk)
    while deliveries_send_chunk(update_id=update.pk).more:
        pass
    elapsed = time.perf_counter() - started
    sent = Delivery.objects.filter(update=update, status="sent").count()
    assert sent == n, sent
    return elapsed, query_s


def run() -> dict[str, Any]:
    common.django_setup(eager=True)
    from dataclasses import replace

    from django.conf import settings

    from donations.services.seed import gifts_seed

    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    settings.UPDATE_EMAILS = replace(settings.UPDATE_EMAILS, chunk=1000, rate=10**9)
    project = common.bench_project()
    gifts_seed(project, DONORS, tag=f"upd{time.time_ns()}")
    bare: list[float] = []
    floor: list[float] = []
    fan: list[float] = []
    query: list[float] = []
    for round_no in range(ROUNDS):
        bare.append(_bare(DONORS))
        floor.append(_claims_only(project, DONORS))
        elapsed, query_s = _fan_out(project, DONORS)
        fan.append(elapsed)
        query.append(query_s)
        print(
            f"  round {round_no + 1}: bare {bare[-1]:.2f} s, claims only {floor[-1]:.2f} s, "
            f"fan-out {fan[-1]:.2f} s"
        )
    bare_s, fan_s = statistics.median(bare), statistics.median(fan)
    floor_s = statistics.median(floor)
    return {
        "donors": DONORS,
        "rounds": ROUNDS,
        "bare_per_s": round(DONORS / bare_s),
        "emails_per_s": round(DONORS / fan_s),
        "vs_bare_send": round(bare_s / fan_s, 4),
        "claims_only_per_s": round(DONORS / floor_s),
        "vs_claims_only": round(floor_s / fan_s, 3),
        "recipient_query_ms": round(statistics.median(query) * 1000, 1),
    }
