"""PostgreSQL advisory locks: serialise work that has no row of its own to lock."""

from __future__ import annotations

import hashlib

from django.db import connection


def advisory_xact_lock(*parts: object) -> None:
    """Wait for, then hold until the end of the current transaction, the lock named by parts.
    SQLite (the demo) serialises every write transaction anyway: nothing to do there."""
    if connection.vendor != "postgresql":
        return
    name = ":".join(str(p) for p in parts)
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)]
        )
