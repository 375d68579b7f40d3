"""A real PgBouncer (Debian's ``pgbouncer`` package) in transaction pooling, in front of the
pytest-django test database, for the integration tests that run gunicorn and Celery workers
through it (test_pgbouncer.py). Started on a free port with its own ini and userlist in
tmp_path, as a process of the ``stack`` (killed with its group at teardown).

``server_round_robin = 1``: consecutive transactions of one client land on different server
connections whenever more than one is idle, as they do on a busy pool. Anything that leans
on the session between transactions (a ``WITH HOLD`` cursor fetched in autocommit, a
session-level advisory lock, a plain ``SET``) then fails every time, not once in a while.
"""

from __future__ import annotations

import os
import pwd
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from django.db import connection

from tests.integration.conftest import Proc, Stack, free_port, wait_for

# Server connections per (database, user): more than one, so that round robin has somewhere
# else to go, and few enough that gunicorn (2 workers) and a worker (2 processes) share them.
POOL_SIZE = 4

INI = """\
[databases]
{dbname} = host={host} port={port} dbname={dbname}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen}
unix_socket_dir =
auth_type = trust
auth_file = {userlist}
admin_users = {user}
stats_users = {user}
pool_mode = transaction
default_pool_size = {pool}
min_pool_size = {pool}
max_client_conn = 200
server_round_robin = 1
server_reset_query =
stats_period = 1
ignore_startup_parameters = extra_float_digits
"""


def _unprivileged_user() -> str:
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    pytest.fail("pgbouncer will not run as root and there is no postgres or nobody user")


def pgbouncer_binary() -> str | None:
    """Debian's pgbouncer (apt-get install pgbouncer; .ci/run installs it)."""
    return shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/local/bin/pgbouncer") if Path(p).exists()),
        None,
    )


@dataclass
class PgBouncer:
    proc: Proc
    port: int
    dbname: str
    user: str

    @property
    def url(self) -> str:
        """DATABASE_URL of the test database through PgBouncer."""
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{self.dbname}"

    def connect(self) -> Any:
        """A plain psycopg2 connection to the test database through PgBouncer."""
        return psycopg2.connect(
            host="127.0.0.1", port=self.port, dbname=self.dbname, user=self.user
        )

    def warm(self) -> None:
        """Open every server connection of the pool now (POOL_SIZE clients in a transaction
        at once), so that round robin has them to alternate between from the first query."""
        clients = [self.connect() for _ in range(POOL_SIZE)]
        try:
            for conn in clients:
                conn.cursor().execute("SELECT 1")  # each holds its own server connection
            for conn in clients:
                conn.commit()  # (a client gone mid-transaction takes its server with it)
        finally:
            for conn in clients:
                conn.close()
        servers = {row["remote_pid"] for row in self.show("SERVERS")}
        assert len(servers) >= POOL_SIZE, f"PgBouncer holds {len(servers)} server connections"

    def show(self, what: str) -> list[dict[str, Any]]:
        """``SHOW <what>`` on PgBouncer's admin console (STATS, POOLS, SERVERS...)."""
        conn = psycopg2.connect(
            host="127.0.0.1", port=self.port, dbname="pgbouncer", user=self.user
        )
        conn.autocommit = True  # the console takes no transactions
        try:
            with conn.cursor() as cur:
                cur.execute(f"SHOW {what}")
                names = [c.name for c in cur.description]
                return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            conn.close()

    def transactions(self) -> int:
        """Transactions PgBouncer has passed to the test database since it started."""
        return sum(
            int(row["total_xact_count"])
            for row in self.show("STATS")
            if row["database"] == self.dbname
        )


def pgbouncer_start(stack: Stack, tmp_path: Path) -> PgBouncer:
    binary = pgbouncer_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("pgbouncer is not installed (.ci/run installs Debian's pgbouncer)")
        pytest.skip("pgbouncer is not installed: apt-get install pgbouncer")
    s = connection.settings_dict
    user = s.get("USER") or "postgres"
    if s.get("PASSWORD"):
        pytest.fail(
            "the PgBouncer harness uses trust auth: the test database must need no password"
        )
    here = tmp_path / "pgbouncer"
    here.mkdir(exist_ok=True)
    userlist = here / "userlist.txt"
    userlist.write_text(f'"{user}" ""\n')
    port = free_port()
    ini = here / "pgbouncer.ini"
    ini.write_text(
        INI.format(
            dbname=s["NAME"],
            host=s.get("HOST") or "127.0.0.1",
            port=s.get("PORT") or "5432",
            listen=port,
            userlist=userlist,
            user=user,
            pool=POOL_SIZE,
        )
    )
    # Not -d: it stays in the stack's process group, killed with it; it logs to stderr (the
    # stack's log file). PgBouncer refuses to run as root: then it drops to -u's user.
    as_user = ["-u", _unprivileged_user()] if os.geteuid() == 0 else []
    proc = stack._spawn(
        "pgbouncer", [binary, *as_user, str(ini)], {"PATH": os.environ.get("PATH", "")}
    )
    bouncer = PgBouncer(proc, port, s["NAME"], user)

    def answering() -> bool:
        if not proc.alive():
            pytest.fail(f"pgbouncer exited with {proc.popen.returncode}\n{proc.log_tail()}")
        conn = bouncer.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                return bool(cur.fetchone())
        finally:
            conn.close()

    wait_for(answering, timeout=20, what="pgbouncer to answer", diagnostics=stack.diagnostics)
    bouncer.warm()
    return bouncer
