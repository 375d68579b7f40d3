"""donations/services/publish.py queues a task as ``Task.delay`` does: the same message in the
same queue of the real Redis broker, so a worker cannot tell the two apart. A broker that is
down: tests/integration/test_webhook_processes.py (the webhook answers, the sweep catches up)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from campaign.celery import app
from donations.services import enqueue, publish

QUEUES = ("celery", "email")
PER_MESSAGE = ("id", "root_id", "correlation_id", "delivery_tag")  # new for every message


@pytest.fixture
def broker() -> Iterator[Any]:
    """The real broker (REDIS_URL), its queues emptied before and after."""
    app.conf.task_always_eager = False
    with app.connection_for_write() as conn:
        client = conn.default_channel.client  # type: ignore[attr-defined]
        client.delete(*QUEUES)
        yield client
        client.delete(*QUEUES)
    app.conf.task_always_eager = True


def _queued(client: Any, queue: str) -> list[dict[str, Any]]:
    """The queue's messages, oldest first, with what differs per message blanked."""
    out = []
    for raw in reversed(client.lrange(queue, 0, -1)):
        message = json.loads(raw)
        message["body"] = json.loads(base64.b64decode(message["body"]))
        for part in (message["headers"], message["properties"]):
            for key in PER_MESSAGE:
                if key in part:
                    part[key] = "-"
        out.append(message)
    return out


@pytest.mark.parametrize(
    ("task_name", "queue"), [(enqueue.EVENT_PROCESS, "celery"), (enqueue.RECEIPT_SEND, "email")]
)
def test_the_message_is_the_one_delay_sends(broker: Any, task_name: str, queue: str) -> None:
    app.tasks[task_name].delay(42)
    publish.task_publish(task_name, 42)
    by_delay, by_publish = _queued(broker, queue)
    assert by_publish == by_delay
    assert by_publish["body"][0] == [42]
    assert by_publish["headers"]["task"] == task_name
