"""campaign/nginx.conf rendered as nginx's docker image renders its templates (only the
named ${CAMPAIGN_...} placeholders are replaced), and wrapped into a whole nginx.conf that an
unprivileged local nginx can run (the tests, the benchmark)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf"
NAMES = (
    "UPSTREAM_SERVERS",
    "LISTEN",
    "STATIC_ROOT",
    "MEDIA_ROOT",
    "CACHE_DIR",
    "TRUSTED_BALANCERS",
)
# Passive failover: after this many failures in FAIL_TIMEOUT a node is skipped that long.
MAX_FAILS = 2
FAIL_TIMEOUT = "10s"
_ADDRESS = re.compile(r"^[A-Za-z0-9_.:/\[\]-]+$")


def _words(addresses: str | list[str]) -> list[str]:
    words = addresses.replace(",", " ").split() if isinstance(addresses, str) else addresses
    for word in words:
        if not _ADDRESS.match(word):
            raise ValueError(f"not an address: {word!r}")
    return list(words)


def upstream_servers(addresses: str | list[str]) -> str:
    """CAMPAIGN_UPSTREAM_SERVERS for app nodes given as host:port, comma or space separated."""
    words = _words(addresses)
    if not words:
        raise ValueError("at least one app node (host:port) is needed")
    return " ".join(f"server {w} max_fails={MAX_FAILS} fail_timeout={FAIL_TIMEOUT};" for w in words)


def trusted_balancers(addresses: str | list[str]) -> str:
    """CAMPAIGN_TRUSTED_BALANCERS for balancer addresses or networks (empty: none)."""
    return " ".join(f"{w} 1;" for w in _words(addresses))


def site_render(**values: str) -> str:
    """The site config with CAMPAIGN_<NAME> filled in (keys: upstream_servers, listen, ...;
    or ``upstream`` and ``balancers`` as address lists, see upstream_servers())."""
    if "upstream" in values:
        values["upstream_servers"] = upstream_servers(values.pop("upstream"))
    if "balancers" in values:
        values["trusted_balancers"] = trusted_balancers(values.pop("balancers"))
    values.setdefault("trusted_balancers", "")
    wanted = {f"CAMPAIGN_{n}": values[n.lower()] for n in NAMES}
    text = TEMPLATE.read_text()
    missing = set(re.findall(r"\$\{(CAMPAIGN_\w+)\}", text)) - set(wanted)
    if missing:
        raise ValueError(f"campaign/nginx.conf needs {', '.join(sorted(missing))}")
    return re.sub(r"\$\{(CAMPAIGN_\w+)\}", lambda m: wanted[m.group(1)], text)


def local_config(prefix: Path, *, workers: int = 1, **values: str) -> Path:
    """A complete nginx.conf under ``prefix`` (pid, logs, temp and cache directories there)
    that includes the rendered site; run it with ``nginx -p <prefix> -c <path>``."""
    prefix.mkdir(parents=True, exist_ok=True)
    for sub in ("logs", "tmp", "cache"):
        (prefix / sub).mkdir(exist_ok=True)
    values.setdefault("cache_dir", str(prefix / "cache"))
    (prefix / "site.conf").write_text(site_render(**values))
    conf = prefix / "nginx.conf"
    temp = prefix / "tmp"
    # Run as root (a CI container), nginx's workers would become "nobody" and could not read
    # a private temp directory: keep them as the user that started it.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    conf.write_text(
        f"""{user}worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {prefix}/site.conf;
}}
"""
    )
    return conf


def nginx_binary() -> str | None:
    """Debian's nginx (apt-get install nginx-light; .ci/run and make bench install it)."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
