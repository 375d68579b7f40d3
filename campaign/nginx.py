"""campaign/nginx.conf rendered as nginx's docker image renders its templates (only the
named ${CAMPAIGN_...} placeholders are replaced), and wrapped into a whole nginx.conf that an
unprivileged local nginx can run (the tests, the benchmark)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf"
NAMES = ("UPSTREAM", "LISTEN", "STATIC_ROOT", "MEDIA_ROOT", "CACHE_DIR")


def site_render(**values: str) -> str:
    """The site config with CAMPAIGN_<NAME> filled in (keys: upstream, listen, ...)."""
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
