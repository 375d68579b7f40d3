"""Lighthouse (npm, scripts/lighthouse.mjs) on the list, detail and fact sheet at phone and
desktop settings. Accessibility, best practices and SEO are asserted here: they do not depend
on timing. Performance does, so it belongs to `make bench` (benchmarks/bench_lighthouse.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "lighthouse.mjs"
MIN_SCORE = 95


def _node_or_skip() -> str:
    node = shutil.which("node")
    missing = (
        "node is missing: apt-get install nodejs npm (see .ci/run)"
        if not node
        else "node_modules/lighthouse is missing: run `make test` (it runs npm ci)"
        if not (ROOT / "node_modules" / "lighthouse").is_dir()
        else f"{CHROMIUM} is missing"
        if not os.access(CHROMIUM, os.X_OK)
        else ""
    )
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    assert node
    return node


@pytest.mark.browser
def test_lighthouse_accessibility_best_practices_and_seo(
    demo: Any, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    node = _node_or_skip()
    settings.SITE_URL = live_server.url  # canonical links on the origin Lighthouse loads
    report = tmp_path / "lighthouse.json"
    result = subprocess.run(
        [
            node,
            str(SCRIPT),
            live_server.url,
            "--categories",
            "accessibility,best-practices,seo",
            "--min",
            str(MIN_SCORE),
            "--json",
            str(report),
        ],
        cwd=ROOT,
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,  # asserted below, with the output
    )
    print(result.stdout)  # noqa: T201 - the scores, shown with pytest -s
    assert result.returncode == 0, result.stdout + result.stderr
    runs = json.loads(report.read_text())
    assert {(r["page"], r["setting"]) for r in runs} == {
        (page, setting)
        for page in ("list", "detail", "fact-sheet")
        for setting in ("phone", "desktop")
    }
    for run in runs:
        assert set(run["scores"]) == {"accessibility", "best-practices", "seo"}
        for category, score in run["scores"].items():
            assert score is not None and score >= MIN_SCORE, (run["page"], run["setting"], category)


def test_lighthouse_script_refuses_bad_arguments() -> None:
    node = shutil.which("node")
    if not node or not (ROOT / "node_modules" / "lighthouse").is_dir():
        if os.environ.get("CI"):
            pytest.fail("node and node_modules are needed (make test runs npm ci)")
        pytest.skip("node or node_modules missing")
    for args, message in [
        ([], "usage: lighthouse.mjs BASE_URL"),
        (["http://x", "--min", "120"], "--min is a score from 0 to 100"),
        (["http://x", "--categories", "speed"], "unknown category speed"),
        (["http://x", "--bogus"], "unknown option --bogus"),
    ]:
        result = subprocess.run(
            [node, str(SCRIPT), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,  # a refusal is what this test wants to see
        )
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
