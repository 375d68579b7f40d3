"""What production must not run with: a weak or development SECRET_KEY, a wildcard in
ALLOWED_HOSTS, a SITE_URL that is not https (and a webhook secret that is not Stripe's).

Refused twice. The production settings raise ImproperlyConfigured with every problem found
(gunicorn, the workers and every ``manage.py`` command stop at start-up), and
``manage.py check --deploy`` reports the first three as errors (``campaign.E001``-``E003``)
in any environment, so a development configuration that someone means to deploy fails the
check too (Django's own ``security.W009`` is only a warning).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)

# The key development runs with when none is set: committed to the repository, so public.
DEVELOPMENT_SECRET_KEY = "dev-insecure-key-do-not-use-in-production"  # noqa: S105 - refused below
# The test provider signs its webhook events with this; also committed, so refused too.
TEST_PROVIDER_WEBHOOK_SECRET = "whsec_test_provider_not_a_secret"  # noqa: S105 - a placeholder
STRIPE_WEBHOOK_SECRET_SHAPE = re.compile(r"whsec_[A-Za-z0-9]{24,}")


def secret_key_problem(key: str) -> str | None:
    """Django's rule for a strong key (W009), plus the committed development key."""
    if key == DEVELOPMENT_SECRET_KEY:
        return "SECRET_KEY is the committed development key, public: set a random one"
    if (
        len(key) < SECRET_KEY_MIN_LENGTH
        or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or key.startswith(SECRET_KEY_INSECURE_PREFIX)
    ):
        return (
            f"SECRET_KEY is too weak: it needs at least {SECRET_KEY_MIN_LENGTH} characters and"
            f" {SECRET_KEY_MIN_UNIQUE_CHARACTERS} different ones, randomly generated (e.g."
            ' python -c "import secrets; print(secrets.token_urlsafe(64))")'
        )
    return None


def allowed_hosts_problem(hosts: Iterable[str]) -> str | None:
    wild = [h for h in hosts if "*" in h]
    if wild:
        return (
            f"ALLOWED_HOSTS may not contain a wildcard ({', '.join(wild)}): name the site's host"
            " names, or any Host header a client sends is believed"
        )
    return None


def site_url_problem(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return (
            f"SITE_URL must be the site's https:// address (links in emails, canonical URLs,"
            f" the sitemap), not {url!r}"
        )
    return None


def webhook_secret_problem(secret: str) -> str | None:
    if secret == TEST_PROVIDER_WEBHOOK_SECRET or not STRIPE_WEBHOOK_SECRET_SHAPE.match(secret):
        return (
            "STRIPE_WEBHOOK_SECRET does not look like a Stripe signing secret (whsec_ followed by"
            " at least 24 letters and digits, from the endpoint's page in the Stripe dashboard);"
            " the development placeholder is refused in production"
        )
    return None


def deployment_problems(
    *, secret_key: str, allowed_hosts: Iterable[str], site_url: str, webhook_secret: str
) -> list[str]:
    """Every reason the production settings refuse to load (settings.py raises them)."""
    found = [
        secret_key_problem(secret_key),
        allowed_hosts_problem(allowed_hosts),
        site_url_problem(site_url),
        webhook_secret_problem(webhook_secret),
    ]
    return [problem for problem in found if problem]


def deploy_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Registered with ``deploy=True`` (campaign/apps.py): runs under ``check --deploy``."""
    problems = [
        ("campaign.E001", secret_key_problem(settings.SECRET_KEY)),
        ("campaign.E002", allowed_hosts_problem(settings.ALLOWED_HOSTS)),
        ("campaign.E003", site_url_problem(settings.SITE_URL)),
    ]
    return [Error(message, id=check_id) for check_id, message in problems if message]
