"""Run every benchmark once and write the figures to artifacts/bench/results.json.

Usage: make bench   (or: DATABASE_URL=... REDIS_URL=... python -m benchmarks.run [names])

Each benchmark reports ratios against a baseline measured in the same run, because the
machines are shared and noisy: absolute figures move from run to run, ratios much less.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import (  # noqa: E402
    bench_export,
    bench_lighthouse,
    bench_matching,
    bench_pages,
    bench_payouts,
    bench_webhooks,
)

BENCHMARKS = {
    "pages": bench_pages.run,
    "webhooks": bench_webhooks.run,
    "matching": bench_matching.run,
    "export": bench_export.run,
    "payouts": bench_payouts.run,
    "lighthouse": bench_lighthouse.run,
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
    "freshness p95 ms": ("webhooks", "freshness.p95_ms", "<=", 2000),
    "allocations (counted) per s vs completions per s without matching, same run": (
        "matching",
        "allocations_vs_completions_without_matching",
        ">=",
        1.0,
    ),
    "over-allocation in any run": ("matching", "any_over_allocation", "==", False),
    "donations CSV export vs PostgreSQL COPY (rows/s)": ("export", "csv_vs_copy", ">=", 0.5),
    "CSV export peak memory above idle (MB)": ("export", "csv_peak_above_idle_mb", "<=", 100),
    "CSV export first byte (ms)": ("export", "csv_first_byte_ms", "<=", 100),
    "payout lines reconciled per s": ("payouts", "reconcile.lines_per_s", ">=", 1000),
    "payout reconcile vs listing only": ("payouts", "reconcile_vs_list", ">=", 0.25),
    "payout reconcile peak MiB": ("payouts", "reconcile.peak_mib", "<=", 64),
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


def _bound(bench: str, data: dict[str, Any]) -> str:
    """What bounds a missed aim, from figures of the same run."""
    if bench == "pages":
        ip, adm = data.get("in_process", {}), data.get("admin", {})
        return (
            f"in the same process /healthz took {ip.get('healthz_ms')} ms and the 1M page "
            f"{ip.get('detail_1m_ms')} ms against {ip.get('detail_0_ms')} ms for 0 gifts (same "
            f"{ip.get('detail_1m_queries')} queries, {ip.get('detail_1m_sql_ms')} ms of them in "
            f"SQL); the donations changelist spends {adm.get('donations_changelist_sql_ms')} ms "
            f"of {adm.get('donations_changelist_ms')} ms in SQL, the rest renders its 100 rows"
        )
    if bench == "webhooks":
        ing = data.get("ingestion", {})
        return (
            f"webhook p50 {ing.get('webhook_p50_ms')} ms against the trivial view's; "
            f"in-process profile: {ing.get('profile')}"
        )
    return "see the figures above"


def main(names: list[str]) -> int:
    chosen = names or list(BENCHMARKS)
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    results: dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    for name in chosen:
        print(f"== {name}", flush=True)
        results[name] = BENCHMARKS[name]()
    aims = []
    for label, (bench, key, op, target) in AIMS.items():
        if bench not in results:
            continue
        value = _get(results[bench], key)
        met = {">=": value >= target, "<=": value <= target, "==": value == target}[op]
        aim = {"aim": label, "figure": value, "op": op, "target": target, "met": met}
        if not met:
            aim["bounded_by"] = _bound(bench, results[bench])
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
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
