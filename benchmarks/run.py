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
    bench_payouts,
    bench_webhooks,
)

BENCHMARKS = {
    "webhooks": bench_webhooks.run,
    "matching": bench_matching.run,
    "export": bench_export.run,
    "payouts": bench_payouts.run,
    "lighthouse": bench_lighthouse.run,
}
AIMS = {
    "webhook ingestion vs trivial view": ("webhooks", "ingestion.webhook_vs_trivial", ">=", 0.40),
    "events processed per s (2 worker processes)": ("webhooks", "processing.per_s", ">=", 250),
    "freshness p95 ms": ("webhooks", "freshness.p95_ms", "<=", 2000),
    "allocations per s (allocation only)": (
        "matching",
        "allocations_per_s_allocation_only",
        ">=",
        300,
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
    out = ROOT / "artifacts" / "bench" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps(results, indent=2, default=str))
    print("\nAims:")
    for label, (bench, key, op, target) in AIMS.items():
        if bench not in results:
            continue
        value = _get(results[bench], key)
        met = {">=": value >= target, "<=": value <= target, "==": value == target}[op]
        print(f"  {'met ' if met else 'MISS'}  {label}: {value} (aim {op} {target})")
    print(f"\nWritten to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
