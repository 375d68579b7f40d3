"""The benchmarks' URLconf (benchmarks/bench_urls.py): the site's pages, in both languages,
plus the same-run baselines the benchmarks measure against."""

from __future__ import annotations

from typing import Any

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
