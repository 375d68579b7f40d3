"""Real processes for the integration tests: gunicorn serving the site and Celery workers.

Every process starts in its own session (process group) and is killed with its group in
fixture teardown, whatever the test did. Processes reach the test database (committed rows
only, hence ``django_db(transaction=True)``), the test Redis database and the in-process
recorded-response Stripe server over HTTP.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
import requests
from django.conf import settings
from django.db import connection

from campaign.celery import app as celery_app
from tests.conftest import WEBHOOK_SECRET

ROOT = Path(settings.BASE_DIR)
T = TypeVar("T")

# Variables of the caller's shell that would change what the processes connect to.
_SCRUBBED = (
    "CELERY_BROKER_URL",
    "DJANGO_ENV",
    "DJANGO_SETTINGS_MODULE",
    "PAYMENT_PROVIDER",
    "STRIPE_API_BASE",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 where nothing listens (right now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    check: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.2,
    diagnostics: Callable[[], str] | None = None,
) -> T:
    """Poll until check() returns something truthy; fail with diagnostics at the deadline."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # noqa: BLE001 - keep polling, report the last one
            last_error = exc
        if time.monotonic() > deadline:
            extra = diagnostics() if diagnostics else ""
            pytest.fail(
                f"Timed out after {timeout:.0f} s waiting for {what}"
                f"{f' (last error: {last_error!r})' if last_error else ''}\n{extra}"
            )
        time.sleep(interval)


def database_url() -> str:
    """The pytest-django test database (not the configured one) as a DATABASE_URL."""
    s = connection.settings_dict
    user = quote(s.get("USER") or "", safe="")
    password = quote(s.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{s['NAME']}"


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return f"--- {self.name} log ({self.log}) ---\n" + "\n".join(text.splitlines()[-lines:])

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (gunicorn/celery children included)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)


class Stack:
    """Starts gunicorn and Celery workers against the test database; stops them all."""

    def __init__(self, tmp_path: Path, stripe_url: str) -> None:
        self.tmp_path = tmp_path
        self.stripe_url = stripe_url
        self.procs: list[Proc] = []

    # --- environment ----------------------------------------------------------------------
    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
        env.update(
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
            DATABASE_URL=database_url(),
            REDIS_URL=settings.REDIS_URL,
            CELERY_TASK_ALWAYS_EAGER="false",
            STRIPE_SECRET_KEY="sk_test_x",
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            STRIPE_API_BASE=self.stripe_url,
            PAYMENT_PROVIDER="stripe",
            MEDIA_ROOT=str(self.tmp_path / "media"),
            LOG_LEVEL="INFO",
        )
        env.update(overrides)
        return env

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> Proc:
        log = self.tmp_path / f"{name}-{len(self.procs)}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as one
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def diagnostics(self) -> str:
        return "\n".join(p.log_tail() for p in self.procs)

    # --- gunicorn -------------------------------------------------------------------------
    def gunicorn(self, env: dict[str, str], *, healthy: bool = True) -> str:
        """Start `gunicorn campaign.wsgi` (2 workers); return its base URL once it answers."""
        port = free_port()
        proc = self._spawn(
            "gunicorn",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "campaign.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--timeout",
                "30",
                "--graceful-timeout",
                "2",
                "--access-logfile",
                "-",
                "--error-logfile",
                "-",
            ],
            env,
        )
        base = f"http://127.0.0.1:{port}"

        def answering() -> bool:
            if not proc.alive():
                pytest.fail(f"gunicorn exited with {proc.popen.returncode}\n{proc.log_tail()}")
            r = requests.get(f"{base}/healthz", timeout=5)
            return r.status_code == 200 if healthy else r.status_code in {200, 503}

        wait_for(
            answering, timeout=30, what="gunicorn to answer /healthz", diagnostics=self.diagnostics
        )
        return base

    # --- celery ---------------------------------------------------------------------------
    def worker(self, env: dict[str, str], *, concurrency: int = 2) -> Proc:
        """Start a prefork worker (concurrency 2); return once it answers a ping."""
        nodename = f"h4-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
        proc = self._spawn(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "campaign",
                "worker",
                "-Q",
                "celery,email",
                f"--concurrency={concurrency}",
                "--pool=prefork",
                "--loglevel=INFO",
                "-n",
                nodename,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            env,
        )
        proc.extra["nodename"] = nodename

        def pong() -> bool:
            if not proc.alive():
                pytest.fail(f"worker exited with {proc.popen.returncode}\n{proc.log_tail()}")
            replies = celery_app.control.ping(destination=[nodename], timeout=1.0)
            return any(nodename in reply for reply in replies or [])

        wait_for(
            pong,
            timeout=60,
            what=f"worker {nodename} to answer a ping",
            interval=0.5,
            diagnostics=self.diagnostics,
        )
        return proc

    def celery_call(self, env: dict[str, str], task: str) -> None:
        """`celery -A campaign call <task>`: what beat does, through the broker."""
        result = subprocess.run(
            [sys.executable, "-m", "celery", "-A", "campaign", "call", task],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    # --- teardown -------------------------------------------------------------------------
    def kill(self, proc: Proc) -> None:
        """SIGKILL the process group and reap the leader."""
        proc.kill(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs:
            proc.kill(signal.SIGTERM)
        deadline = time.monotonic() + 5
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in self.procs:
            # Children (gunicorn and prefork workers) too, even when the leader has exited.
            proc.kill(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(timeout=5)


@pytest.fixture
def stack(
    transactional_db: None, fake_stripe: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Stack]:
    """Depends on transactional_db so that processes die before the tables are flushed."""
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        message = (
            "integration tests need DATABASE_URL (PostgreSQL) and REDIS_URL (make test sets both)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)  # CI runs make test: missing services are a broken build
        pytest.skip(message)  # a bare `pytest` on the SQLite defaults
    s = Stack(tmp_path, fake_stripe.url)
    try:
        yield s
    finally:
        failed = getattr(request.node, "rep_call", None)
        s.stop_all()
        if failed is not None and failed.failed:
            sys.stderr.write(s.diagnostics() + "\n")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


class SilentBroker:
    """Accepts TCP connections (the kernel does, from the backlog) and never answers:
    a broker that hangs rather than refuses."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self._held.append(conn)  # read nothing, answer nothing

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for conn in self._held:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent_broker() -> Iterator[SilentBroker]:
    broker = SilentBroker()
    yield broker
    broker.close()


DONATE_FIELDS = {
    "preset": "50",
    "currency": "USD",
    "frequency": "one_time",
    "donor_name": "Ana",
    "donor_email": "ana@example.org",
}


def donate_over_http(base: str, slug: str, **fields: str) -> requests.Response:
    """Give through the running server as a browser would: the (cached, token-less) page,
    this visitor's CSRF token from /csrf/ as static/js/csrf.js fetches it, the form post."""
    http = requests.Session()
    page = http.get(f"{base}/projects/{slug}/", timeout=30)
    assert page.status_code == 200, page.text[:2000]
    assert 'name="csrfmiddlewaretoken"' in page.text, "the project page has no donate form"
    token = http.get(f"{base}/csrf/", timeout=30).json()["token"]
    response = http.post(
        f"{base}/projects/{slug}/donate/",
        data={**DONATE_FIELDS, **fields, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 303, response.text[:2000]
    return response


def post_webhook(base: str, body: str, header: str, *, timeout: float = 60) -> requests.Response:
    return requests.post(
        f"{base}/stripe/webhook/",
        data=body.encode(),
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
        timeout=timeout,
    )
