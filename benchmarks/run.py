"""Run every benchmark once and write the figures to artifacts/bench/results.json.

Usage: make bench   (or: DATABASE_URL=... REDIS_URL=... python -m benchmarks.run [names])

Each benchmark reports ratios against a baseline measured in the same run, because the
machines are shared and noisy: absolute figures move from run to run, ratios much less.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import (  # noqa: E402
    bench_export,
    bench_freshness,
    bench_lighthouse,
    bench_matching,
    bench_pages,
    bench_pages_gifts,
    bench_payouts,
    bench_updates,
    bench_webhooks,
)


def _pages() -> dict[str, Any]:
    """The pages benchmark, then the same pages while gifts arrive (bench_pages_gifts)."""
    result = bench_pages.run()
    result["under_gifts"] = bench_pages_gifts.run_part()
    return result


BENCHMARKS = {
    "pages": _pages,
    "webhooks": lambda: bench_webhooks.run(freshness=bench_freshness.freshness),
    "matching": bench_matching.run,
    "export": bench_export.run,
    "payouts": bench_payouts.run,
    "lighthouse": bench_lighthouse.run,
    "updates": bench_updates.run,
}
AIMS = {
    "project detail, 1M gifts, vs /healthz req/s": (
        "pages",
        "served.detail_1m.vs_healthz",
        ">=",
        0.40,
    ),
    "project detail rendered in-process, cold cache, worst of 0/10k/1M, ms": (
        "pages",
        "detail_cold_ms_worst",
        "<=",
        15,
    ),
    "project page through nginx vs a static file of the same size": (
        "pages",
        "served.proxy.page_vs_static_file",
        ">=",
        0.50,
    ),
    "thermometer staleness behind nginx, s": (
        "pages",
        "served.proxy.thermometer_stale_s",
        "<=",
        10,
    ),
    "project page while 10 gifts/s confirm across 20 projects, vs /healthz req/s": (
        "pages",
        "under_gifts.served.page_vs_healthz",
        ">=",
        0.40,
    ),
    "gift confirmations/s across 20 projects vs one project (not slower, 5 % noise)": (
        "pages",
        "under_gifts.confirmations.many_vs_one",
        ">=",
        0.95,
    ),
    "donations admin (list and searches), worst vs projects changelist": (
        "pages",
        "admin.worst_vs_projects",
        "<=",
        3,
    ),
    "webhook ingestion vs trivial view": ("webhooks", "ingestion.webhook_vs_trivial", ">=", 0.40),
    "events processed vs a no-op task through the same worker": (
        "webhooks",
        "processing.vs_noop",
        ">=",
        0.40,
    ),
    "events processed vs the same writes without asking the provider (fair floor)": (
        "webhooks",
        "processing.vs_floor",
        ">=",
        0.5,
    ),
    "freshness p95 ms": ("webhooks", "freshness.p95_ms", "<=", 2000),
    "freshness p95 ms at rest": ("webhooks", "freshness.at_rest.p95_ms", "<=", 2000),
    "freshness p95 ms at 30 gifts per second": (
        "webhooks",
        "freshness.at_30_per_s.p95_ms",
        "<=",
        2000,
    ),
    "allocations (counted) per s vs completions per s without matching, same run": (
        "matching",
        "allocations_vs_completions_without_matching",
        ">=",
        1.0,
    ),
    "over-allocation in any run": ("matching", "any_over_allocation", "==", False),
    "every matching run consistent (pool spent exactly, totals equal the ledger)": (
        "matching",
        "all_consistent",
        "==",
        True,
    ),
    "donations CSV export vs PostgreSQL COPY (rows/s)": ("export", "csv_vs_copy", ">=", 0.5),
    "CSV export peak memory above idle (MB)": ("export", "csv_peak_above_idle_mb", "<=", 100),
    "CSV export first byte (ms)": ("export", "csv_first_byte_ms", "<=", 100),
    "XLSX export rows/s (typed cells, streamed)": ("export", "xlsx_rows_per_s", ">=", 10_000),
    "XLSX export peak memory of its process at 1M rows (MB)": (
        "export",
        "xlsx_peak_rss_mb",
        "<=",
        200,
    ),
    "payout lines reconciled per s": ("payouts", "reconcile.lines_per_s", ">=", 1000),
    "payout reconcile vs listing only": ("payouts", "reconcile_vs_list", ">=", 0.25),
    "payout reconcile peak MiB": ("payouts", "reconcile.peak_mib", "<=", 64),
    "update emails per s (10,000 donors, no-op backend) vs claiming the rows only": (
        "updates",
        "vs_claims_only",
        ">=",
        0.25,
    ),
    "Lighthouse performance, lowest page": ("lighthouse", "min_score", ">=", 95),
    "Lighthouse performance vs a bare page, lowest": (
        "lighthouse",
        "min_vs_baseline",
        ">=",
        0.95,
    ),
}


def _get(data: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[part]
    return data


def _errors(data: Any) -> list[str]:
    """Every "error" a benchmark's figures hold, at any depth."""
    if not isinstance(data, dict):
        return []
    found = [str(data["error"])] if "error" in data else []
    for value in data.values():
        found.extend(_errors(value))
    return found


def _g(data: dict[str, Any], dotted: str) -> Any:
    try:
        return _get(data, dotted)
    except (KeyError, TypeError):
        return "?"


def _bound_pages(key: str, d: dict[str, Any]) -> str:
    ip, adm, srv = d.get("in_process", {}), d.get("admin", {}), d.get("served", {})
    if key == "detail_cold_ms_worst":
        zero = ip.get("detail_0_ms") or 0
        tier = max(("10k", "1m"), key=lambda t: ip.get(f"detail_{t}_ms") or 0)
        if (ip.get(f"detail_{tier}_ms") or 0) > 1.25 * zero:
            return (
                f"the gifts: {ip.get(f'detail_{tier}_ms')} ms at {tier} against {zero} ms at "
                f"0 gifts ({ip.get(f'detail_{tier}_sql_ms')} ms of SQL against "
                f"{ip.get('detail_0_sql_ms')}): read that page's query plans"
            )
        big = ip.get("detail_1m_ms")
        return (
            f"not the gifts: the cold render takes {zero} ms at 0 gifts, "
            f"{ip.get('detail_10k_ms')} at 10k and {big} at 1M "
            f"({ip.get('detail_1m_queries')} queries, {ip.get('detail_1m_sql_ms')} ms of SQL at "
            f"1M), against {ip.get('healthz_ms')} ms for /healthz in the same process: the rest "
            "is template rendering of the whole page with every cache empty (photos' srcset, "
            "species, sections, JSON-LD); visitors get the cached copy"
        )
    if key.startswith("served.detail_1m"):
        zero, big = _g(srv, "detail_0.per_s"), _g(srv, "detail_1m.per_s")
        if isinstance(zero, int | float) and isinstance(big, int | float) and big < 0.8 * zero:
            return (
                f"the gifts: the 1M page {big}/s against {zero}/s at 0 gifts, both from the "
                "page cache: look for a per-request query that reads the gifts"
            )
        return (
            f"the 1M page {_g(srv, 'detail_1m.per_s')}/s, the 0-gift page "
            f"{_g(srv, 'detail_0.per_s')}/s, /healthz {_g(srv, 'healthz.per_s')}/s: a page-cache "
            "hit is one primary-key read and one Redis GET, so the gap to /healthz is the "
            "page's bytes through gunicorn, not the gifts"
        )
    if key.startswith("served.proxy"):
        px = srv.get("proxy", {})
        return (
            f"page {_g(px, 'page_through_nginx.per_s')}/s vs static file "
            f"{_g(px, 'static_file.per_s')}/s through the same nginx "
            f"({px.get('page_bytes')} bytes); stale {px.get('thermometer_stale_s')} s "
            "(nginx keeps a copy PAGE_PROXY_CACHE_SECONDS)"
        )
    if key.startswith("under_gifts."):
        ug = d.get("under_gifts", {})
        sv, cf = ug.get("served", {}), ug.get("confirmations", {})
        return (
            f"page {_g(sv, 'page.per_s')}/s under {_g(sv, 'gifts_per_s')} gifts/s "
            f"({_g(sv, 'gifts_to_the_page_project')} to its project, each a cold render) "
            f"against /healthz {_g(sv, 'healthz.per_s')}/s and the page without gifts "
            f"{_g(sv, 'page_without_gifts.per_s')}/s; confirmations {cf.get('rounds_20')} "
            f"across 20 projects against {cf.get('rounds_one')} to one"
        )
    if key.startswith("admin."):
        worst = max(
            (k for k in adm if k.endswith("_vs_projects") and k != "worst_vs_projects"),
            key=lambda k: adm[k],
            default=None,
        )
        if worst is None:
            return "no admin figures"
        name = worst.removesuffix("_vs_projects")
        return (
            f"{name}: {adm.get(name + '_ms')} ms, of which {adm.get(name + '_sql_ms')} ms in "
            f"{adm.get(name + '_queries')} SQL queries, against "
            f"{adm.get('projects_changelist_ms')} ms for the projects changelist (its few rows): "
            "the rest is Python rendering a page of 100 rows"
        )
    return "see the figures above"


def _bound_webhooks(key: str, d: dict[str, Any]) -> str:
    if key.startswith("ingestion"):
        ing = d.get("ingestion", {})
        return (
            f"webhook {ing.get('webhook_per_s')}/s (p50 {ing.get('webhook_p50_ms')} ms) against "
            f"the trivial view's {ing.get('trivial_per_s')}/s; in-process per request: "
            f"{ing.get('profile')}"
        )
    if key == "processing.vs_floor":
        pr = d.get("processing", {})
        return (
            f"{pr.get('per_s')} events/s against {pr.get('floor_per_s')}/s for the same "
            "transaction and rows without the provider: the rest is the re-fetch of each "
            "session from Stripe (an HTTP round trip to the recorded-response server here)"
        )
    if key.startswith("processing"):
        pr = d.get("processing", {})
        return (
            f"{pr.get('per_s')} events/s against {pr.get('noop_per_s')} no-op tasks/s on the "
            "same worker: each event is a transaction that locks the gift, writes its "
            "transition, ledger rows and totals and may allocate a match, where the no-op "
            "task touches no database"
        )
    if key.startswith("freshness"):
        phase = key.removesuffix(".p95_ms")
        return (
            f"p50 {_g(d, phase + '.p50_ms')} ms, p95 {_g(d, phase + '.p95_ms')} ms, max "
            f"{_g(d, phase + '.max_ms')} ms at {_g(d, phase + '.posted_per_s')} events/s posted, "
            f"against {_g(d, 'processing.per_s')} events/s one worker of two processes "
            "processes: past that rate an event waits for the ones queued before it (add "
            "worker processes or workers)"
        )
    return "see the figures above"


def _bound(bench: str, key: str, data: dict[str, Any]) -> str:
    """What bounds a missed aim, from that aim's own figures in the same run."""
    if bench == "pages":
        return _bound_pages(key, data)
    if bench == "webhooks":
        return _bound_webhooks(key, data)
    if bench == "export":
        return (
            f"CSV {_g(data, 'csv.rows_per_s')} rows/s against COPY {_g(data, 'copy.rows_per_s')}; "
            f"first byte {data.get('csv_first_byte_ms')} ms, first rows "
            f"{data.get('csv_first_rows_ms')} ms; peak {data.get('csv_peak_above_idle_mb')} MB; "
            f"XLSX {data.get('xlsx_rows_per_s')} rows/s over {data.get('xlsx_rows')} rows "
            f"({data.get('xlsx_vs_csv')} of the CSV's), peak {data.get('xlsx_peak_rss_mb')} MB"
        )
    if bench == "matching":
        return (
            f"{data.get('allocations_per_s_allocation_only')} allocations/s on one pool row "
            f"(allocation only; {data.get('pool_calls_per_s_allocation_only')} pool calls/s) "
            f"against {data.get('completions_per_s_without_matching')} completions/s without a "
            f"pool; every run consistent: {data.get('all_consistent')}; errors: "
            f"{[r[m]['errors'] for r in data.get('rounds', []) for m in r if r[m]['errors']]}"
        )
    if bench == "payouts":
        return (
            f"reconcile {_g(data, 'reconcile.lines_per_s')} lines/s against listing only "
            f"{_g(data, 'list_only.lines_per_s')} lines/s: each line is stored and linked to "
            "its gift and ledger row in the payout's transaction"
        )
    if bench == "lighthouse":
        pages = data.get("pages", {})
        low = min(pages, key=lambda p: pages[p].get("score", 100), default=None)
        return f"lowest page: {low} {pages.get(low, {})}" if low else "no pages scored"
    return "see the figures above"


def main(names: list[str]) -> int:
    chosen = names or list(BENCHMARKS)
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    results: dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    failed: list[str] = []
    for name in chosen:
        print(f"== {name}", flush=True)
        try:
            results[name] = BENCHMARKS[name]()
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not lose the others' figures
            traceback.print_exc()
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            failed.append(name)
    aims = []
    for label, (bench, key, op, target) in AIMS.items():
        if bench not in results:
            continue
        try:
            value = _get(results[bench], key)
        except (KeyError, TypeError):  # the benchmark failed, or could not measure this
            errors = _errors(results[bench])
            aims.append(
                {
                    "aim": label,
                    "figure": None,
                    "op": op,
                    "target": target,
                    "met": False,
                    "bounded_by": "not measured: " + ("; ".join(errors) or f"no {key}"),
                }
            )
            continue
        met = {">=": value >= target, "<=": value <= target, "==": value == target}[op]
        aim = {"aim": label, "figure": value, "op": op, "target": target, "met": met}
        if not met:
            aim["bounded_by"] = _bound(bench, key, results[bench])
        aims.append(aim)
    results["aims"] = aims
    out = ROOT / "artifacts" / "bench" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps(results, indent=2, default=str))
    print("\nAims:")
    for aim in aims:
        print(
            f"  {'met ' if aim['met'] else 'MISS'}  {aim['aim']}: {aim['figure']}"
            f" (aim {aim['op']} {aim['target']})"
        )
        if not aim["met"]:
            print(f"        bounded by: {aim['bounded_by']}")
    print(f"\nWritten to {out.relative_to(ROOT)}")
    if failed:
        print(f"Failed: {', '.join(failed)} (their tracebacks are above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
