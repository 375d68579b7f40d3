"""The benchmarks' own parts: their URLconf (the site's pages in both languages plus the
same-run baselines) and the runner (benchmarks/run.py), which keeps every figure it got."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from projects.models import Project


def test_the_benchmark_urlconf_serves_the_site_and_its_baselines(
    client: Client, settings: Any, project: Project
) -> None:
    settings.ROOT_URLCONF = "benchmarks.bench_urls"
    assert client.post("/bench/trivial/").content == b"ok"
    assert b"<h1>Baseline</h1>" in client.get("/bench/baseline.html").content
    assert client.get(project.get_absolute_url()).status_code == 200
    spanish = client.get(f"/es{project.get_absolute_url()}")
    assert spanish.status_code == 200 and spanish["Content-Language"] == "es"


def test_a_failing_benchmark_keeps_the_others_figures_and_fails_the_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from benchmarks import run

    def broken() -> dict[str, Any]:
        raise RuntimeError("seeding failed")

    monkeypatch.setattr(run, "BENCHMARKS", {"ok": lambda: {"x": 1}, "broken": broken})
    monkeypatch.setattr(
        run, "AIMS", {"x is 2 or more": ("ok", "x", ">=", 2), "y": ("broken", "y", ">=", 1)}
    )
    monkeypatch.setattr(run, "ROOT", tmp_path)
    assert run.main([]) == 1
    data = json.loads((tmp_path / "artifacts" / "bench" / "results.json").read_text())
    assert data["ok"] == {"x": 1}
    assert data["broken"] == {"error": "RuntimeError: seeding failed"}
    aims = {a["aim"]: a for a in data["aims"]}
    assert aims["x is 2 or more"]["figure"] == 1 and aims["x is 2 or more"]["met"] is False
    assert aims["y"]["met"] is False
    assert aims["y"]["bounded_by"] == "not measured: RuntimeError: seeding failed"


@pytest.mark.django_db
def test_the_gifts_started_measurement_starts_real_gifts(
    monkeypatch: pytest.MonkeyPatch, project: Project
) -> None:
    from benchmarks import bench_pages
    from donations.models import Donation

    monkeypatch.setattr(bench_pages, "GIFT_STARTS", 3)
    figures = bench_pages.gifts_started(project)
    assert figures["per_s"] > 0 and figures["vs_healthz"] > 0
    # The warm-up and three, each a pending gift with its Checkout Session; then removed, so
    # the benchmark's project keeps its size from run to run.
    assert figures["gifts_made"] == 4
    assert not Donation.objects.filter(project=project).exists()
