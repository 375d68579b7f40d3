"""campaign/gunicorn_conf.py: two workers per core unless WEB_CONCURRENCY says otherwise."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

CONFIG_MODULE = "campaign.gunicorn_conf"


def fresh_config() -> ModuleType:
    """The module as gunicorn's fresh process imports it, reading today's environment."""
    sys.modules.pop(CONFIG_MODULE, None)
    return importlib.import_module(CONFIG_MODULE)


@pytest.fixture(autouse=True)
def _forget_the_module() -> Iterator[None]:
    yield
    sys.modules.pop(CONFIG_MODULE, None)


def test_two_workers_per_core_when_web_concurrency_is_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    conf = fresh_config()
    cores = os.cpu_count()
    assert cores
    assert conf.workers == 2 * cores
    assert conf.bind == "0.0.0.0:8000"
    assert conf.timeout == 30
    assert conf.accesslog == "-"  # stdout


def test_two_workers_per_core_when_web_concurrency_is_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docker-compose.yml passes ${WEB_CONCURRENCY:-}: empty when the operator set nothing."""
    monkeypatch.setenv("WEB_CONCURRENCY", "")
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert fresh_config().workers == 6


def test_web_concurrency_sets_the_worker_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert fresh_config().workers == 3


def test_unknown_core_count_still_starts_two_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert fresh_config().workers == 2


@pytest.mark.parametrize("value", ["0", "-2", "four", "2.5"])
def test_web_concurrency_must_be_a_positive_whole_number(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", value)
    with pytest.raises(ValueError, match="WEB_CONCURRENCY must be a positive whole number"):
        fresh_config()


@pytest.mark.parametrize("web_concurrency", [None, "5"], ids=["unset", "set"])
def test_gunicorn_reads_the_module_from_the_command_line(
    monkeypatch: pytest.MonkeyPatch, web_concurrency: str | None
) -> None:
    """The exact command line compose and the Dockerfile use, parsed by gunicorn itself."""
    from gunicorn.app.wsgiapp import WSGIApplication

    if web_concurrency is None:
        monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    else:
        monkeypatch.setenv("WEB_CONCURRENCY", web_concurrency)
    sys.modules.pop(CONFIG_MODULE, None)
    argv = ["gunicorn", "-c", "python:campaign.gunicorn_conf", "campaign.wsgi:application"]
    monkeypatch.setattr(sys, "argv", argv)
    cfg = WSGIApplication().cfg
    expected = int(web_concurrency) if web_concurrency else 2 * (os.cpu_count() or 1)
    assert cfg.workers == expected
    assert cfg.bind == ["0.0.0.0:8000"]
    assert cfg.timeout == 30
    assert cfg.accesslog == "-"
