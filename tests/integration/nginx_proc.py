"""The shipped nginx config (campaign/nginx.conf) run by a real nginx for the integration
tests, in front of one or more gunicorn processes of the stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from campaign.nginx import local_config, nginx_binary
from tests.integration.conftest import ROOT, Proc, Stack, free_port, wait_for


def binary() -> str:
    found = nginx_binary()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed (.ci/run installs nginx-light)")
        pytest.skip("nginx is not installed: apt-get install nginx-light")
    return found


def collected_static(target: Path, env: dict[str, str] | None = None) -> Path:
    """`manage.py collectstatic` into ``target`` (with ``env``, e.g. production's hashed
    names): the static files and the outage page (errors/503.html) as a deploy writes them."""
    if env is None:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env = {**env, "STATIC_ROOT": str(target)}
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def start(
    stack: Stack,
    prefix: Path,
    upstreams: list[str],
    *,
    static_root: Path,
    media_root: Path,
    balancers: str = "",
    wait: bool = True,
) -> tuple[str, Proc]:
    """nginx on a free port in front of ``upstreams`` (host:port); its base URL and process."""
    port = free_port()
    conf = local_config(
        prefix,
        upstream=", ".join(upstreams),
        listen=f"127.0.0.1:{port}",
        static_root=str(static_root),
        media_root=str(media_root),
        balancers=balancers,
    )
    proc = stack._spawn(
        "nginx", [binary(), "-p", str(conf.parent), "-c", str(conf), "-g", "daemon off;"], {}
    )
    base = f"http://127.0.0.1:{port}"
    if wait:
        wait_for(
            lambda: requests.get(f"{base}/healthz", timeout=5).status_code == 200,
            timeout=20,
            what="nginx to answer",
            diagnostics=stack.diagnostics,
        )
    return base, proc
