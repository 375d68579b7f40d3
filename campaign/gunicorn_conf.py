"""Gunicorn settings for the web service (docker-compose.yml and the Dockerfile):

    gunicorn -c python:campaign.gunicorn_conf campaign.wsgi:application

Sync workers, two per core. ``os.cpu_count()`` counts the host's cores, not a container's CPU
quota (``docker run --cpus``), so on a quota-limited host set ``WEB_CONCURRENCY`` to the number
of workers wanted. Anything here can still be overridden on the command line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

WORKERS_PER_CORE = 2


def workers_count(environ: Mapping[str, str] = os.environ) -> int:
    """WEB_CONCURRENCY if set (a positive whole number), else two per core."""
    value = environ.get("WEB_CONCURRENCY", "").strip()
    if not value:
        return WORKERS_PER_CORE * (os.cpu_count() or 1)
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError(f"WEB_CONCURRENCY must be a positive whole number, not {value!r}")
    return count


bind = "0.0.0.0:8000"
workers = workers_count()
timeout = 30
# Access and error logs to the container's stdout/stderr, where `docker compose logs` reads them.
accesslog = "-"
errorlog = "-"
