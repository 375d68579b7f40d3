"""Public pages and the finance admin at 0, 10,000 and 1,000,000 gifts; nginx in front.

* In-process: each page (detail, list, fact sheet) rendered by the Django test client with
  the whole-page cache off and an empty cache (the cold render), median ms per tier.
* Served: gunicorn as shipped (campaign/gunicorn_conf.py, production settings), wrk against
  ``/healthz`` (the Django floor) and each page (anonymous, so from the page cache), and
  the 1M detail page with a query string (never cached: the full render under load).
  Ratios to ``/healthz`` measured in the same run.
* Proxy: the shipped campaign/nginx.conf under Debian's nginx in front of the same gunicorn:
  the 1M detail page through it against a static file of the same size through it; then the
  thermometer's staleness behind it after a change of totals.
* Admin: the donations changelist, and searches by Stripe id, email and name, against the
  projects changelist, in-process, median ms.
* Gifts started: donate-form posts through to the Checkout redirect (test provider),
  in-process, per second, against /healthz in the same loop.
* Under gifts (benchmarks/bench_pages_gifts.py, added by benchmarks/run.py): a project's page while gifts confirm at 10
  a second across 20 projects, against /healthz under the same stream; and confirmations
  per second across 20 projects against one.

Gifts are made with SQL (donations/services/seed.py), once per benchmark database: later runs
reuse them.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from benchmarks import common

TIERS = {"0": 0, "10k": 10_000, "1m": 1_000_000}
RENDERS = 25
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "8"))
WRK_ARGS = ["-t2", "-c32"]
LOGS = common.ROOT / "artifacts" / "bench"


def _project(tier: str, gifts: int) -> Any:
    from djmoney.money import Money

    from donations.services.seed import gifts_seed
    from projects.models import FundingTotals, Project

    slug = f"bench-pages-{tier}"
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        project = common.bench_project()
        Project.objects.filter(pk=project.pk).update(slug=slug, title=f"Bench pages {tier}")
        project.refresh_from_db()
    totals, _ = FundingTotals.objects.get_or_create(
        project=project, defaults={"raised": Money(0, "USD"), "matched": Money(0, "USD")}
    )
    # The rows themselves, not the totals: the export benchmark empties the donations table
    # of this database, which leaves the totals as they were.
    from donations.models import Donation

    have = Donation.objects.filter(project=project).count()
    if have == 0 and totals.gift_count:
        FundingTotals.objects.filter(pk=totals.pk).update(
            raised=0, matched=0, donor_count=0, gift_count=0
        )
    missing = gifts - have
    if missing > 0:
        print(f"   seeding {missing} gifts for {slug} with SQL", flush=True)
        began = time.perf_counter()
        gifts_seed(project, missing, tag=f"b{tier}")
        print(f"   seeded in {time.perf_counter() - began:.1f} s", flush=True)
    return project


def _urls(project: Any) -> dict[str, str]:
    return {
        "detail": project.get_absolute_url(),
        "list": "/projects/",
        "fact_sheet": f"/projects/{project.slug}/fact-sheet/",
    }


def _median_ms(client: Any, url: str, n: int, before: Any = None) -> float:
    times = []
    for _ in range(n):
        if before:
            before()
        began = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return round(statistics.median(times), 2)


def _sql_ms(ctx: Any) -> float:
    return round(sum(float(q["time"]) for q in ctx.captured_queries) * 1000, 2)


def in_process(projects: dict[str, Any]) -> dict[str, Any]:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    out: dict[str, Any] = {}
    local = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(PAGE_CACHE_SECONDS=0, CACHES=local, ALLOWED_HOSTS=["*"]):
        client = Client()
        client.get("/healthz")
        out["healthz_ms"] = _median_ms(client, "/healthz", RENDERS)  # the same run's floor
        for tier, project in projects.items():
            for page, url in _urls(project).items():
                client.get(url)  # warm: imports, templates
                cache.clear()
                with CaptureQueriesContext(connection) as ctx:
                    client.get(url)
                out[f"{page}_{tier}_queries"] = len(ctx.captured_queries)
                out[f"{page}_{tier}_sql_ms"] = _sql_ms(ctx)
                out[f"{page}_{tier}_ms"] = _median_ms(client, url, RENDERS, before=cache.clear)
    return out


def _wrk(url: str, seconds: int = WRK_SECONDS) -> dict[str, Any]:
    result = subprocess.run(
        ["wrk", *WRK_ARGS, f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    )
    text = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> str:
        m = re.search(rf"\s{p}%\s+([\d.]+\w+)", text)
        return m.group(1) if m else "?"

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {
        "per_s": round(rps, 1),
        "p50": pct("50"),
        "p99": pct("99"),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def _server_env() -> dict[str, str]:
    env = common.server_env()
    env.update(
        DJANGO_ENV="production",
        DJANGO_SETTINGS_MODULE="campaign.settings",
        SECRET_KEY="bench-" + "k" * 60,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL="http://127.0.0.1",  # production requires it (absolute links, sitemaps)
        STRIPE_SECRET_KEY="sk_test_benchmark",
        SECURE_SSL_REDIRECT="false",
        STRIPE_WEBHOOK_SECRET="whsec_" + "b" * 32,
    )
    return env


def served(projects: dict[str, Any]) -> dict[str, Any]:
    """gunicorn as shipped; wrk against /healthz and each page; nginx in front."""
    import sys

    port = common.free_port()
    env = _server_env()
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:campaign.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "--access-logfile",
        "/dev/null",
        "campaign.wsgi:application",
    ]
    # Production serves static files by their hashed names: the manifest must exist.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=common.ROOT,
        env={**os.environ, **env},
        check=True,
    )
    out: dict[str, Any] = {}
    base = f"http://127.0.0.1:{port}"
    with common.process(cmd, env, LOGS / "pages-gunicorn.log"):
        common.wait_http(f"{base}/healthz")
        for project in projects.values():  # fill the page cache
            for url in _urls(project).values():
                common.wait_http(base + url)
        _wrk(f"{base}/healthz", 2)  # warm-up
        floor = [_wrk(f"{base}/healthz")]
        for tier, project in projects.items():
            out[f"detail_{tier}"] = _wrk(base + project.get_absolute_url())
        big = projects["1m"]
        out["list_1m"] = _wrk(base + "/projects/")
        out["fact_sheet_1m"] = _wrk(base + _urls(big)["fact_sheet"])
        out["detail_1m_uncached"] = _wrk(base + big.get_absolute_url() + "?gift=50")
        floor.append(_wrk(f"{base}/healthz"))
        healthz = round(statistics.mean(f["per_s"] for f in floor), 1)
        out["healthz"] = {"per_s": healthz, "rounds": floor}
        for key in list(out):
            if key != "healthz":
                out[key]["vs_healthz"] = round(out[key]["per_s"] / healthz, 3)
        out["proxy"] = proxy(base.removeprefix("http://"), big)
    return out


def proxy(upstream: str, project: Any) -> dict[str, Any]:
    """The shipped nginx config in front of gunicorn: the page against a static file of the
    same size, then the thermometer's staleness after a change."""
    import urllib.request

    from campaign.nginx import local_config, nginx_binary
    from projects.models import FundingTotals

    binary = nginx_binary()
    if binary is None or shutil.which("wrk") is None:
        return {"error": "nginx or wrk is not installed (make bench installs them)"}
    root = LOGS / "nginx"
    static_root = root / "static"
    (static_root / "bench").mkdir(parents=True, exist_ok=True)
    port = common.free_port()
    conf = local_config(
        root,
        workers=os.cpu_count() or 1,
        upstream=upstream,
        listen=f"127.0.0.1:{port}",
        static_root=str(static_root),
        media_root=str(root / "media"),
    )
    base = f"http://127.0.0.1:{port}"
    page_url = base + project.get_absolute_url()
    with common.process(
        [binary, "-p", str(root), "-c", str(conf), "-g", "daemon off;"], {}, LOGS / "nginx.log"
    ):
        common.wait_http(f"{base}/healthz")
        with urllib.request.urlopen(page_url, timeout=10) as r:
            body = r.read()
        (static_root / "bench" / "page.html").write_bytes(body)
        static = _wrk(f"{base}/static/bench/page.html")
        page = _wrk(page_url)
        # Staleness: change the totals, poll the page through nginx until it shows.
        totals = FundingTotals.objects.get(project=project)
        new_raised = totals.raised.amount + 1000
        shown = f"${new_raised:,.0f}"
        FundingTotals.objects.filter(pk=totals.pk).update(raised=new_raised)
        changed = time.monotonic()
        stale = None
        while time.monotonic() - changed < 30:
            with urllib.request.urlopen(page_url, timeout=10) as r:
                if shown in r.read().decode():
                    stale = round(time.monotonic() - changed, 2)
                    break
            time.sleep(0.1)
    return {
        "page_bytes": len(body),
        "static_file": static,
        "page_through_nginx": page,
        "page_vs_static_file": round(page["per_s"] / static["per_s"], 3),
        "thermometer_stale_s": stale if stale is not None else 30.0,
    }


def admin(projects: dict[str, Any]) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    user, _ = User.objects.get_or_create(
        username="bench-finance", defaults={"is_staff": True, "is_superuser": True}
    )
    out: dict[str, Any] = {}
    with override_settings(ALLOWED_HOSTS=["*"]):
        client = Client()
        client.force_login(user)
        cases = {
            "projects_changelist": "/admin/projects/project/",
            "donations_changelist": "/admin/donations/donation/",
            "search_payment_intent": "/admin/donations/donation/?q=pi_b1m_777",
            "search_email": "/admin/donations/donation/?q=B1M777%40example.org",
            "search_name": "/admin/donations/donation/?q=b1m77712",
            "filter_status": "/admin/donations/donation/?status__exact=succeeded",
            # #8's ledger: one row per gift and fee (backfilled by its migration).
            "ledger_changelist": "/admin/donations/ledgerentry/",
            "ledger_search_reference": "/admin/donations/ledgerentry/?q=txn_b1m_777",
        }
        for name, url in cases.items():
            client.get(url)
            with CaptureQueriesContext(connection) as ctx:
                client.get(url)
            out[f"{name}_queries"] = len(ctx.captured_queries)
            out[f"{name}_sql_ms"] = _sql_ms(ctx)
            out[f"{name}_ms"] = _median_ms(client, url, 7)
    base = out["projects_changelist_ms"]
    ratios = {}
    for name in cases:
        if name != "projects_changelist":
            ratios[f"{name}_vs_projects"] = round(out[f"{name}_ms"] / base, 2)
    out.update(ratios)
    out["worst_vs_projects"] = max(ratios.values())
    return out


GIFT_STARTS = 200


def gifts_started(project: Any) -> dict[str, Any]:
    """Donate-form posts that start a gift, in-process on one core: validation, the rate
    limits (raised out of the way), the gift row and the provider's Checkout Session (the
    test provider's, so no network), then the redirect; against /healthz in the same loop."""
    from django.test import Client, override_settings

    from donations.models import Donation

    run_tag = int(time.time())
    form = {"preset": "50", "currency": "USD", "frequency": "one_time", "donor_name": "Bench"}
    unlimited = "1000000/h"
    with override_settings(
        PAYMENT_PROVIDER="test",
        DONATION_RATE_LIMIT_PER_IP=unlimited,
        DONATION_RATE_LIMIT_PER_EMAIL=unlimited,
        ALLOWED_HOSTS=["*"],
    ):
        client = Client()
        url = f"/projects/{project.slug}/donate/"

        def start(i: int) -> None:
            email = f"start{run_tag}-{i}@example.org"
            response = client.post(url, {**form, "donor_email": email})
            assert response.status_code == 303, (response.status_code, response.content[:300])

        start(-1)  # warm
        began = time.perf_counter()
        for i in range(GIFT_STARTS):
            start(i)
        starts = GIFT_STARTS / (time.perf_counter() - began)
        made = Donation.objects.filter(donor_email__startswith=f"start{run_tag}-")
        started = made.filter(status=Donation.Status.PENDING).exclude(checkout_session_id=None)
        gifts_made = started.count()
        made.delete()  # pending, no money: the 10k tier stays at its gifts
        began = time.perf_counter()
        for _ in range(GIFT_STARTS):
            client.get("/healthz")
        healthz = GIFT_STARTS / (time.perf_counter() - began)
    return {
        "per_s": round(starts, 1),
        "gifts_made": gifts_made,
        "healthz_per_s": round(healthz, 1),
        "vs_healthz": round(starts / healthz, 3),
    }


def run() -> dict[str, Any]:
    # Not eager: Django is set up once per run, and the later benchmarks queue their tasks.
    common.django_setup(eager=False)
    projects = {tier: _project(tier, n) for tier, n in TIERS.items()}
    result: dict[str, Any] = {}
    # Each part on its own: one that fails records its error and the others still count.
    parts = {
        "in_process": lambda: in_process(projects),
        "served": lambda: served(projects),
        "admin": lambda: admin(projects),
        "gifts_started": lambda: gifts_started(projects["10k"]),
    }
    for name, part in parts.items():
        try:
            result[name] = part()
        except Exception as exc:  # noqa: BLE001 - one broken part must not lose the others' figures
            import traceback

            traceback.print_exc()
            result[name] = {"error": f"{type(exc).__name__}: {exc}"}
    if "error" in result["in_process"]:
        return result
    ip = result["in_process"]
    result["detail_cold_ms_worst"] = max(ip[f"detail_{t}_ms"] for t in TIERS)
    result["detail_1m_vs_detail_0"] = round(ip["detail_1m_ms"] / ip["detail_0_ms"], 2)
    return result


if __name__ == "__main__":
    import json

    Path(LOGS).mkdir(parents=True, exist_ok=True)
    print(json.dumps(run(), indent=2))
