"""Browser tests: Playwright's sync API driving Debian's chromium against pytest-django's
live server. The test payment provider delivers its signed events to the real webhook
endpoint in-process, and tasks run eagerly (tests/conftest.py), so a click on the test
checkout moves the donation, the match and the thermometer before the redirect answers.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an asyncio loop in this thread; the ORM calls the tests make
# between page actions are still plain synchronous code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
# axe-core from the npm registry (package.json, installed by `make test` with `npm ci`),
# injected into the page under test from this local file.
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 A and AA (axe's tags are cumulative by version, so every level is listed).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BROWSER_WEBHOOK_SECRET = "whsec_browser_tests_secret"

MOBILE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} is missing: apt-get install chromium (see .ci/run)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it: a missing browser is a broken build
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """A factory of pages, each in its own context (cookies) with the given viewport."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] | None = None) -> Any:
        context = browser.new_context(viewport=viewport or DESKTOP, locale="en-US")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        def console(message: Any) -> None:
            # Chromium reports what the Content-Security-Policy blocked on the console.
            if "Content Security Policy" in message.text:
                errors.append(message.text)

        page.on("console", console)
        page.js_errors = errors  # checked by the tests: no script errors, nothing CSP blocked
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def test_payments(settings: Any) -> None:
    """The local test checkout, signing its webhook events with a known secret."""
    settings.PAYMENT_PROVIDER = "test"
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = BROWSER_WEBHOOK_SECRET


@pytest.fixture
def demo(test_payments: None, live_server: Any) -> Any:
    """The seed project and its open 2X pool, as `manage.py load_demo` makes them."""
    from django.core.management import call_command

    from projects.models import Project
    from projects.services.demo import SEED_SLUG

    call_command("load_demo", stdout=io.StringIO())
    return Project.objects.get(slug=SEED_SLUG)


@pytest.fixture
def shot() -> Any:
    """Save a full-page screenshot to artifacts/screenshots/NAME.png; returns the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def _axe_report(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        lines.extend(
            f"    {' '.join(node['target'])}: {node['failureSummary']}" for node in v["nodes"][:5]
        )
    return "\n".join(lines)


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `make install-node` (npm ci), as `make test` does")
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture
def axe(axe_source: str) -> Any:
    """Run axe-core's WCAG 2.2 AA rules on the page as it is now; fail listing every violation.

    Returns the number of rules that passed, so a caller can see that axe did run."""

    def check(page: Any, what: str) -> int:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            # Evaluated through the DevTools protocol, which the page's Content-Security-
            # Policy does not govern (a <script> tag would be refused, as it should be).
            page.evaluate(axe_source + "\n;void 0")
        result = page.evaluate(
            """tags => axe.run(document, {runOnly: {type: "tag", values: tags},
                                          resultTypes: ["violations"]})""",
            AXE_TAGS,
        )
        violations = result["violations"]
        assert violations == [], f"axe on {what} ({page.url}):\n{_axe_report(violations)}"
        return len(result["passes"])

    return check
