"""The webhook's publish: an event's processing task queued with less machinery around it.

``Task.delay`` spends about twice the CPU of the webhook's own work on a publish (options and
signals, the retry wrapper, a publish through ``Producer.publish``). Here the message is
built by Celery (``app.amqp.as_task_v2``, the routes, the time limits) and handed to the
channel of a pooled producer, so the worker receives exactly what ``delay`` would have sent
(tests/donations/test_publish.py compares the two). Celery's publish signals are not sent;
nothing here listens to them. Any failure falls back to ``enqueue.enqueue``: Celery's own
publish with its retry policy, and the log line the inbox sweep's catch-up relies on.
"""

from __future__ import annotations

import uuid
from typing import Any

from celery import current_app
from django.db import transaction
from kombu.serialization import dumps

from donations.services import enqueue


def task_publish(task_name: str, *args: Any) -> None:
    """Queue a task now, as ``enqueue.enqueue`` does (a broker outage is logged, not raised).
    Tasks that run in-process (the demo, the tests: task_always_eager) go through it too."""
    if current_app.conf.task_always_eager:
        enqueue.enqueue(task_name, *args)
        return
    try:
        _publish(task_name, args)
    except Exception:  # noqa: BLE001 - broker trouble: Celery's publish retries, then logs
        enqueue.enqueue(task_name, *args)


def task_publish_on_commit(task_name: str, *args: Any) -> None:
    """Queue a task once the current transaction commits (never for a rolled-back change)."""
    transaction.on_commit(lambda: task_publish(task_name, *args))


def _publish(task_name: str, args: tuple[Any, ...]) -> None:
    app = current_app
    conf = app.conf
    task = app.tasks[task_name]
    # The registered task, as Task.apply_async passes it (the stubs want its class).
    queue = app.amqp.router.route({}, task_name, args, {}, task)["queue"]  # type: ignore[arg-type]
    task_id = str(uuid.uuid4())
    message = app.amqp.as_task_v2(
        task_id,
        task_name,
        args=args,
        kwargs={},
        time_limit=task.time_limit or conf.task_time_limit,
        soft_time_limit=task.soft_time_limit or conf.task_soft_time_limit,
        reply_to=app.thread_oid,
    )
    content_type, encoding, body = dumps(message.body, serializer=conf.task_serializer)
    properties = {
        **message.properties,
        "delivery_mode": 2,  # persistent, as Celery sends every task
        "delivery_info": {"exchange": "", "routing_key": queue.name},
        "priority": 0,
    }
    with app.producer_or_acquire() as producer:
        channel = producer.channel
        prepared = channel.prepare_message(
            body, 0, content_type, encoding, message.headers, properties
        )
        channel.basic_publish(prepared, exchange="", routing_key=queue.name)
