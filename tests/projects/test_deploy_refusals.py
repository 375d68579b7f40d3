"""Production refuses, not warns: a weak or development SECRET_KEY, a wildcard in
ALLOWED_HOSTS, an http:// SITE_URL. The settings refuse to load, and `check --deploy`
reports the same as errors in any environment (campaign/deploy_checks.py)."""

from __future__ import annotations

import os

import pytest

from campaign.deploy_checks import DEVELOPMENT_SECRET_KEY
from tests.projects.test_deploy import manage, production_env

WEAK = "SECRET_KEY is too weak"
DEVELOPMENT = "SECRET_KEY is the committed development key"
WILDCARD = "ALLOWED_HOSTS may not contain a wildcard"
NOT_HTTPS = "SITE_URL must be the site's https:// address"


def _deploy_check(**overrides: str | None) -> tuple[int, str]:
    """`manage.py check --deploy` at its default fail level (errors only)."""
    result = manage("check", "--deploy", env=production_env(**overrides))
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SECRET_KEY": "short-key"}, WEAK),
        ({"SECRET_KEY": "ab" * 40}, WEAK),  # long, but 2 different characters
        ({"SECRET_KEY": "django-insecure-" + "k3y" * 20}, WEAK),  # startproject's own
        ({"SECRET_KEY": DEVELOPMENT_SECRET_KEY}, DEVELOPMENT),
        ({"ALLOWED_HOSTS": "*"}, WILDCARD),
        ({"ALLOWED_HOSTS": "gifts.example.org, *"}, WILDCARD),
        ({"ALLOWED_HOSTS": "*.example.org"}, WILDCARD),
        ({"SITE_URL": "http://gifts.example.org"}, NOT_HTTPS),
        ({"SITE_URL": "gifts.example.org"}, NOT_HTTPS),
    ],
    ids=[
        "short-key",
        "few-characters",
        "django-insecure",
        "development-key",
        "any-host",
        "any-host-in-a-list",
        "wildcard-pattern",
        "http-site-url",
        "no-scheme",
    ],
)
def test_production_refuses_to_start(overrides: dict[str, str], message: str) -> None:
    code, output = _deploy_check(**overrides)
    assert code != 0
    assert f"ImproperlyConfigured: {message}" in output, output[-2000:]
    assert "System check identified" not in output  # refused before any check ran


def test_every_refusal_is_named_at_once() -> None:
    code, output = _deploy_check(SECRET_KEY="x" * 10, ALLOWED_HOSTS="*", SITE_URL="http://a.org")
    assert code != 0
    assert WEAK in output and WILDCARD in output and NOT_HTTPS in output


def test_a_sound_production_configuration_passes() -> None:
    code, output = _deploy_check(
        ALLOWED_HOSTS="gifts.example.org, .gifts.example.org", SITE_URL="https://gifts.example.org"
    )
    assert code == 0, output
    assert "System check identified no issues (0 silenced)." in output


def test_the_deploy_check_errs_on_a_development_configuration() -> None:
    """The same rules as system-check errors: a development setup someone means to deploy
    fails `check --deploy` (Django's own W009 would only warn about the key)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "ALLOWED_HOSTS": "*",
    }
    result = manage("check", "--deploy", env=env)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"(campaign.E001) {DEVELOPMENT}" in output
    assert f"(campaign.E002) {WILDCARD}" in output
    assert f"(campaign.E003) {NOT_HTTPS}" in output
    # Without --deploy the development configuration is fine.
    assert manage("check", env=env).returncode == 0
