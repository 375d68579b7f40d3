"""Lighthouse performance of the list, the seed project and its fact sheet, phone and
desktop, under gunicorn on PostgreSQL (scripts/lighthouse.mjs with Debian's chromium).

Lighthouse simulates a mid-range phone on a slow 4G link (and a desktop on cable) from one
page load, so its score depends less on this machine than wall-clock timings do; the same run
also scores a bare HTML page on the same server and middleware, the baseline each page is
compared to (ratio 1.0 = as fast as a page with nothing on it).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from typing import Any

from benchmarks import common

ROOT = common.ROOT
LOGS = ROOT / "artifacts" / "bench" / "logs"
BASELINE = "/bench/baseline.html"
PAGES = ["list", "detail", "fact-sheet"]


def _gunicorn(port: int, env: dict[str, str]) -> Any:
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "campaign.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(2 * (os.cpu_count() or 1)),
    ]
    return common.process(cmd, env, LOGS / "lighthouse-gunicorn.log")


def run() -> dict[str, Any]:
    node = shutil.which("node")
    if not node or not (ROOT / "node_modules" / "lighthouse").is_dir():
        raise SystemExit("Lighthouse needs node and node_modules: run `make bench` (npm ci)")
    port = common.free_port()
    media = ROOT / "artifacts" / "bench" / "media"
    env = {
        **common.server_env(),
        "SITE_URL": f"http://127.0.0.1:{port}",
        "MEDIA_ROOT": str(media),
        "SERVE_MEDIA": "true",
    }
    os.environ.update({"MEDIA_ROOT": str(media), "SITE_URL": env["SITE_URL"]})
    common.django_setup()
    from django.conf import settings
    from django.core.management import call_command

    # Another benchmark of this run may have configured Django first.
    settings.MEDIA_ROOT, settings.SITE_URL = media, env["SITE_URL"]
    call_command("load_demo", stdout=io.StringIO())
    report = ROOT / "artifacts" / "bench" / "lighthouse.json"
    with _gunicorn(port, env):
        common.wait_http(f"http://127.0.0.1:{port}/healthz")
        result = subprocess.run(
            [
                node,
                str(ROOT / "scripts" / "lighthouse.mjs"),
                f"http://127.0.0.1:{port}",
                "--categories",
                "performance",
                "--pages",
                ",".join([BASELINE, *PAGES]),
                "--json",
                str(report),
            ],
            cwd=ROOT,
            env={**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")},
            capture_output=True,
            text=True,
            timeout=900,
            check=False,  # the return code is read below, with the output
        )
    print(result.stdout, end="")
    if result.returncode != 0:
        raise RuntimeError(f"Lighthouse failed:\n{result.stdout}\n{result.stderr}")
    runs = json.loads(report.read_text())
    base = {r["setting"]: r["scores"]["performance"] for r in runs if r["page"] == BASELINE}
    out: dict[str, Any] = {"baseline": base, "pages": {}}
    for r in runs:
        if r["page"] == BASELINE:
            continue
        score = r["scores"]["performance"]
        out["pages"][f"{r['page']} {r['setting']}"] = {
            "score": score,
            "vs_baseline": round(score / base[r["setting"]], 3) if base[r["setting"]] else None,
        }
    out["min_score"] = min(p["score"] for p in out["pages"].values())
    out["min_vs_baseline"] = min(p["vs_baseline"] or 0 for p in out["pages"].values())
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
