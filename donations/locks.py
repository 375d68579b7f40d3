"""PostgreSQL advisory locks: serialise work that has no row of its own to lock."""

from __future__ import annotations

import hashlib

from django.db import connection


def advisory_xact_lock(*parts: object, shared: bool = False) -> None:
    """Wait for, then hold until the end of the current transaction, the lock named by parts
    (``shared``: many holders at once, excluding only the exclusive holder).
    SQLite (the demo) serialises every write transaction anyway: nothing to do there."""
    if connection.vendor != "postgresql":
        return
    name = ":".join(str(p) for p in parts)
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    with connection.cursor() as cursor:
        sql = "SELECT pg_advisory_xact_lock(%s)"
        if shared:
            sql = "SELECT pg_advisory_xact_lock_shared(%s)"
        cursor.execute(sql, [int.from_bytes(digest, "big", signed=True)])
