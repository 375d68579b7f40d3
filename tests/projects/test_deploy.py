"""Production settings refuse to start half-configured; docker-compose.yml matches the code."""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.urls import resolve

BASE_DIR = Path(settings.BASE_DIR)
SETTINGS_FILE = BASE_DIR / "campaign" / "settings.py"
COMPOSE_FILE = BASE_DIR / "docker-compose.yml"


def production_env(**overrides: str | None) -> dict[str, str]:
    """A complete production environment; an override of None removes that variable."""
    env = {
        # Nothing else from the test run's environment leaks in (DATABASE_URL, keys, ...).
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "gifts.example.org",
        "DATABASE_URL": "postgres://campaign:campaign@db.invalid:5432/campaign",
        "REDIS_URL": "redis://redis.invalid:6379/0",
        "STRIPE_SECRET_KEY": "sk_live_" + secrets.token_hex(24),
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(24),
        "SITE_URL": "https://gifts.example.org",
    }
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,  # callers assert on the return code, with the output
    )


def deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return manage("check", "--deploy", "--fail-level", "WARNING", env=env)


# --- manage.py check --deploy ---------------------------------------------------------------


def test_production_settings_pass_the_deploy_check() -> None:
    env = production_env()
    assert len(env["SECRET_KEY"]) >= 50
    result = deploy_check(env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in output and "?: (security." not in output


def test_production_turns_on_https_only_settings() -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS >= 31536000, s.PAYMENT_PROVIDER, s.ALLOWED_HOSTS)"
    )
    result = manage(
        "shell", "-v", "0", "-c", code, env=production_env(ALLOWED_HOSTS="a.example, b.example")
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False True True True True stripe ['a.example', 'b.example']"


@pytest.mark.parametrize(
    "missing",
    ["SECRET_KEY", "ALLOWED_HOSTS", "STRIPE_WEBHOOK_SECRET", "REDIS_URL", "SITE_URL"],
)
@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_production_refuses_to_start_without_each_secret(missing: str, value: str | None) -> None:
    result = deploy_check(production_env(**{missing: value}))
    assert result.returncode != 0
    message = f"ImproperlyConfigured: {missing} must be set when DJANGO_ENV=production"
    assert message in result.stderr, result.stderr[-2000:]
    assert "System check identified" not in result.stdout


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_test_provider_not_a_secret",  # the committed development placeholder
        "whsec_short",
        "changeme",
        "sk_live_" + "a" * 32,  # the API key pasted in the wrong variable
        "whsec_" + "a" * 20 + "-_-",
    ],
)
def test_production_refuses_a_webhook_secret_that_is_not_stripes(secret: str) -> None:
    result = deploy_check(production_env(STRIPE_WEBHOOK_SECRET=secret))
    assert result.returncode != 0
    assert "STRIPE_WEBHOOK_SECRET does not look like a Stripe signing secret" in result.stderr
    assert "System check identified" not in result.stdout


@pytest.mark.parametrize(
    "overrides",
    [{"CELERY_BROKER_URL": "memory://"}, {"CELERY_TASK_ALWAYS_EAGER": "true"}],
    ids=["memory-broker", "eager-tasks"],
)
def test_production_refuses_tasks_without_a_broker(overrides: dict[str, str]) -> None:
    result = deploy_check(production_env(**overrides))
    assert result.returncode != 0
    assert "Production needs a real Celery broker and worker" in result.stderr


def test_development_needs_no_configuration() -> None:
    """The control for the tests above: without DJANGO_ENV nothing is required."""
    bare = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    result = manage("check", env=bare)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    # ...and that is what the deploy check is for: development is not deployable.
    assert deploy_check(bare).returncode != 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"PAYMENT_PROVIDER": "test"},
        {"STRIPE_SECRET_KEY": None},  # without a key the provider would default to test
        {"STRIPE_SECRET_KEY": None, "PAYMENT_PROVIDER": "test"},
    ],
    ids=["explicit-test-provider", "no-stripe-key", "both"],
)
def test_production_refuses_the_test_payment_provider(overrides: dict[str, str | None]) -> None:
    result = deploy_check(production_env(**overrides))
    assert result.returncode != 0
    assert "The test payment provider is refused in production" in result.stderr, result.stderr[
        -2000:
    ]


def test_production_with_stripe_provider_but_no_key_names_the_key() -> None:
    result = deploy_check(production_env(STRIPE_SECRET_KEY=None, PAYMENT_PROVIDER="stripe"))
    assert result.returncode != 0
    assert "STRIPE_SECRET_KEY must be set when DJANGO_ENV=production" in result.stderr


def test_unknown_environment_name_is_refused() -> None:
    result = manage("check", env=production_env(DJANGO_ENV="prod"))
    assert result.returncode != 0
    assert "DJANGO_ENV must be development or production, not 'prod'" in result.stderr


# --- docker-compose.yml ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def settings_env_names() -> set[str]:
    """Every environment variable campaign/settings.py reads (env.str("X"), _required("X")...)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(SETTINGS_FILE.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        if isinstance(func, ast.Attribute):  # env.str("X"), env.db("X"), ...
            reads_env = isinstance(func.value, ast.Name) and func.value.id == "env"
        else:  # env("X"), _required("X")
            reads_env = isinstance(func, ast.Name) and func.id in {"env", "_required"}
        first = node.args[0]
        if reads_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
    return names


GUNICORN_CONF_FILE = BASE_DIR / "campaign" / "gunicorn_conf.py"


def gunicorn_conf_env_names() -> set[str]:
    """Environment variables campaign/gunicorn_conf.py reads (environ.get("X"))."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(GUNICORN_CONF_FILE.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


APP_SERVICES = [
    "web",
    "worker",
    "beat",
]  # web2 is web's twin (tests/projects/test_compose_nodes.py)


def test_settings_parser_finds_the_known_names() -> None:
    names = settings_env_names()
    assert {
        "DJANGO_ENV",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "EMAIL_URL",
        "MEDIA_ROOT",
        "DEFAULT_FROM_EMAIL",  # read by a call spanning several lines
    } <= names
    assert "USD" not in names and "INFO" not in names


def test_compose_has_the_documented_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"db", "redis", "web", "web2", "worker", "beat", "proxy"}
    assert services["db"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    for name in APP_SERVICES:
        assert services[name]["build"] == "."
        # The app waits for healthy backing services, not merely started ones.
        assert services[name]["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }, name


def test_compose_services_have_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ["db", "redis", "web", "worker", "proxy"]:
        check = services[name].get("healthcheck")
        assert check and check["test"][0] == "CMD" and len(check["test"]) > 1, name
        assert {"interval", "timeout", "retries"} <= set(check), name
    assert services["db"]["healthcheck"]["test"][1] == "pg_isready"
    assert services["redis"]["healthcheck"]["test"][1:] == ["redis-cli", "ping"]
    worker_check = services["worker"]["healthcheck"]["test"]
    assert worker_check[1:5] == ["celery", "-A", "campaign", "inspect"]
    # The web check asks the app's own health endpoint, which exists.
    web_check = " ".join(services["web"]["healthcheck"]["test"])
    url = re.search(r"https?://[^/'\"]+(/[^'\" ]*)", web_check)
    assert url, web_check
    assert resolve(url.group(1)).url_name == "healthz"


def test_compose_environment_is_what_settings_read(compose: dict[str, Any]) -> None:
    assert gunicorn_conf_env_names() == {"WEB_CONCURRENCY"}
    for name in APP_SERVICES:
        known = settings_env_names()
        if name == "web":  # the web service also runs gunicorn with campaign/gunicorn_conf.py
            known |= gunicorn_conf_env_names()
        env = compose["services"][name]["environment"]
        assert isinstance(env, dict) and env, name
        unknown = set(env) - known
        assert not unknown, f"{name} sets variables settings.py never reads: {unknown}"
        # Compose runs production, so it must provide everything production requires.
        assert env["DJANGO_ENV"] == "production"
        assert {
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "DATABASE_URL",
            "REDIS_URL",
            "STRIPE_SECRET_KEY",
            "STRIPE_WEBHOOK_SECRET",
            "SITE_URL",
        } <= set(env), name
    # The database service and the app agree on the credentials.
    db_env = compose["services"]["db"]["environment"]
    database_url = compose["services"]["web"]["environment"]["DATABASE_URL"]
    assert database_url == (
        f"postgres://{db_env['POSTGRES_USER']}:{db_env['POSTGRES_PASSWORD']}"
        f"@db:5432/{db_env['POSTGRES_DB']}"
    )
    assert compose["services"]["web"]["environment"]["REDIS_URL"].startswith("redis://redis:")


def _compose_value(value: str) -> str:
    """${NAME:-default} -> default; ${NAME:?message} -> a made-up secret."""

    def sub(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if op == ":-":
            return arg
        if name == "STRIPE_WEBHOOK_SECRET":
            return "whsec_" + secrets.token_hex(24)
        return ("sk_live_" if name == "STRIPE_SECRET_KEY" else "") + secrets.token_urlsafe(64)

    return re.sub(r"\$\{(\w+)(:-|:\?)([^}]*)\}", sub, str(value))


def test_compose_environment_passes_the_deploy_check(compose: dict[str, Any]) -> None:
    env = {k: _compose_value(v) for k, v in compose["services"]["web"]["environment"].items()}
    assert "${" not in "".join(env.values())
    full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **env}
    result = deploy_check(full)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def _commands(compose: dict[str, Any]) -> dict[str, str]:
    out = {}
    for name in APP_SERVICES:
        command = compose["services"][name]["command"]
        out[name] = command if isinstance(command, str) else " ".join(command)
    return out


def test_compose_commands_name_modules_that_exist(compose: dict[str, Any]) -> None:
    from celery import Celery
    from celery.app.utils import find_app

    commands = _commands(compose)

    # Compose and the Dockerfile start the same gunicorn: the config module, then the app.
    gunicorn_args = {"compose": _gunicorn_args(commands["web"]), "Dockerfile": _dockerfile_cmd()}
    for where, args in gunicorn_args.items():
        assert args == GUNICORN_ARGS, where
    config = GUNICORN_ARGS[GUNICORN_ARGS.index("-c") + 1]
    assert config.startswith("python:")
    importlib.import_module(config.removeprefix("python:"))
    module_name, attribute = GUNICORN_ARGS[-1].split(":")
    module = importlib.import_module(module_name)
    assert callable(getattr(module, attribute)), GUNICORN_ARGS[-1]
    assert "python manage.py migrate --noinput" in commands["web"]
    assert (BASE_DIR / "manage.py").is_file()

    for name in ["worker", "beat"]:
        match = re.search(r"celery -A (\S+) (worker|beat)\b", commands[name])
        assert match, commands[name]
        assert match.group(2) == name
        # Resolved the way the celery command line resolves -A.
        app = find_app(match.group(1))
        assert isinstance(app, Celery)
        assert app.main == "campaign"
        assert importlib.import_module("campaign.celery").app is app


GUNICORN_ARGS = ["-c", "python:campaign.gunicorn_conf", "campaign.wsgi:application"]


def _gunicorn_args(command: str) -> list[str]:
    """The arguments after `gunicorn` in a shell command line (`sh -c "... && exec gunicorn ..."`)."""
    words = shlex.split(command)
    if words[:2] == ["sh", "-c"]:
        words = shlex.split(words[2])
    start = words.index("gunicorn") + 1
    end = words.index("&&", start) if "&&" in words[start:] else len(words)
    return words[start:end]


def _dockerfile_cmd() -> list[str]:
    """The Dockerfile's CMD (exec form) after `gunicorn`."""
    cmd = re.search(r"^CMD (\[.*\])$", (BASE_DIR / "Dockerfile").read_text(), re.M)
    assert cmd, "the Dockerfile has no exec-form CMD"
    words = json.loads(cmd.group(1))
    assert words[0] == "gunicorn", words
    return list(words[1:])


def test_gunicorn_worker_count_is_left_to_the_config(compose: dict[str, Any]) -> None:
    """Neither compose nor the Dockerfile hard-code what campaign/gunicorn_conf.py decides."""
    web = _commands(compose)["web"]
    for args in (_gunicorn_args(web), _dockerfile_cmd()):
        for flag in ("-w", "--workers", "-b", "--bind", "-t", "--timeout"):
            assert flag not in args, args
    # exec: gunicorn replaces the shell, so compose's SIGTERM reaches it (graceful shutdown).
    assert "exec gunicorn" in web


def test_compose_proxy_serves_the_volumes_the_app_writes(compose: dict[str, Any]) -> None:
    """nginx (the proxy service) serves /static/ and /media/ from the named volumes that web
    (collectstatic at start) and the worker (photo renditions) write; the app serves neither
    in production, and only the proxy is published."""
    from campaign.nginx import site_render, upstream_servers

    services = compose["services"]
    proxy = services["proxy"]
    env = proxy["environment"]
    text = site_render(
        **{
            k.removeprefix("CAMPAIGN_").lower(): _compose_value(str(v))
            for k, v in env.items()
            if k.startswith("CAMPAIGN_")
        }
    )
    assert "${" not in text
    assert f"alias {env['CAMPAIGN_STATIC_ROOT']}/;" in text
    assert f"alias {env['CAMPAIGN_MEDIA_ROOT']}/;" in text
    assert env["CAMPAIGN_UPSTREAM_SERVERS"] == upstream_servers(["web:8000", "web2:8000"])
    assert "./campaign/nginx.conf:/etc/nginx/templates/default.conf.template:ro" in proxy["volumes"]
    assert f"static:{env['CAMPAIGN_STATIC_ROOT']}:ro" in proxy["volumes"]
    assert f"media:{env['CAMPAIGN_MEDIA_ROOT']}:ro" in proxy["volumes"]
    web_env = services["web"]["environment"]
    media_root = web_env["MEDIA_ROOT"]
    for name in ["web", "worker"]:
        assert services[name]["environment"]["MEDIA_ROOT"] == media_root, name
        assert f"media:{media_root}" in services[name]["volumes"], name
    assert "static:/app/staticfiles" in services["web"]["volumes"]
    assert "collectstatic --noinput" in _commands(compose)["web"]
    assert {"media", "static"} <= set(compose["volumes"])
    for name in ["web", "web2", "worker", "beat"]:
        assert "SERVE_MEDIA" not in services[name]["environment"], name
        assert "ports" not in services[name], name
    assert proxy["ports"] == ["80:80"]
    assert web_env["TRUSTED_PROXIES"] == "${TRUSTED_PROXIES:-1}"


def test_production_app_does_not_serve_uploads_itself(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    """With the web service's environment, GET /media/... is not the app's job (nginx serves
    it, tests/integration/test_nginx.py); SERVE_MEDIA=true turns it on for a host without
    the proxy."""
    env = {k: _compose_value(v) for k, v in compose["services"]["web"]["environment"].items()}
    env["MEDIA_ROOT"] = str(tmp_path)
    (tmp_path / "projects" / "photos").mkdir(parents=True)
    (tmp_path / "projects" / "photos" / "p.jpg").write_bytes(b"\xff\xd8\xff-a-photo")
    code = (
        "from django.test import Client; "
        "r = Client().get('/media/projects/photos/p.jpg', secure=True, HTTP_HOST='localhost'); "
        "print(r.status_code, r['Content-Type'], r.getvalue()[:20])"
    )
    full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **env}
    result = manage("shell", "-v", "0", "-c", code, env=full)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("404 "), result.stdout
    full["SERVE_MEDIA"] = "true"
    result = manage("shell", "-v", "0", "-c", code, env=full)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "200 image/jpeg b'\\xff\\xd8\\xff-a-photo'"


def test_beat_schedule_names_registered_tasks() -> None:
    from campaign.celery import app

    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled == {
        "donations.tasks.inbox_sweep",
        "donations.tasks.pending_recheck",
        "donations.tasks.failed_events_report",
        "donations.tasks.receipts_catch_up",
        "donations.tasks.payouts_repair",
        "donations.tasks.reconcile_nightly",
        "donations.tasks.outbox_relay",
        "donations.tasks.outbox_prune",
        "finance.tasks.export_files_expire",
        "stewardship.tasks.updates_daily",
        "stewardship.tasks.updates_resume",
    } | (
        {"donations.tasks.test_provider_payout", "donations.tasks.test_provider_redeliver"}
        if settings.PAYMENT_PROVIDER == "test"
        else set()
    )
    assert scheduled <= set(app.tasks)
