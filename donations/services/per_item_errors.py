"""One item's failure in a periodic job (sweep, catch-up, re-check) is logged and the job
goes on with the rest: a bad row must not block every row queued behind it, run after run.

What is not about the item is let through: the task's soft time limit (the next run carries
on) and a database that cannot be reached (every item would fail the same way; the task's
retry policy deals with it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError

logger = logging.getLogger(__name__)


@contextmanager
def item_isolated(what: str, item: object) -> Iterator[None]:
    try:
        yield
    except (SoftTimeLimitExceeded, OperationalError, InterfaceError):
        raise
    except Exception:
        logger.exception("%s %s failed; going on with the rest", what, item)
