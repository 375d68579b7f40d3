"""Admin login throttling (django-axes) and the admin's address (ADMIN_URL)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.factories import StaffFactory
from tests.projects.test_deploy import BASE_DIR

PASSWORD = "the-right-pass-phrase-3391"
LOCKED = "Too many failed sign-in attempts for this account or from this address."


@pytest.fixture
def staff(db: None) -> User:
    return StaffFactory.create(username="boss", password=PASSWORD, superuser=True)


def _login(client: Client, username: str, password: str, ip: str = "203.0.113.5") -> Any:
    return client.post(
        "/admin/login/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_thirty_wrong_passwords_then_the_right_one_is_refused(client: Client, staff: User) -> None:
    """The audit's case: 30 wrong passwords, then the right one, let the attacker in."""
    codes = [_login(client, "boss", f"guess-{n}").status_code for n in range(30)]
    assert codes[:4] == [200] * 4  # the login form again, with its error
    assert set(codes[4:]) == {429}  # the 5th failure locks
    response = _login(client, "boss", PASSWORD)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "locked for 15 minutes" in response.content.decode()
    assert response["Retry-After"] == "900"
    assert not _signed_in(client)


def test_a_locked_username_is_locked_from_every_address(client: Client, staff: User) -> None:
    for n in range(5):
        _login(client, "boss", f"guess-{n}", ip=f"198.51.100.{n}")
    response = _login(Client(), "boss", PASSWORD, ip="192.0.2.200")
    assert response.status_code == 429


def test_an_address_trying_many_usernames_is_locked(client: Client, staff: User) -> None:
    for n in range(5):
        _login(client, f"user{n}", "guess", ip="198.51.100.77")
    assert _login(Client(), "boss", PASSWORD, ip="198.51.100.77").status_code == 429
    # The account itself is not locked for its owner elsewhere.
    owner = Client()
    assert _login(owner, "boss", PASSWORD, ip="192.0.2.10").status_code == 302
    assert _signed_in(owner)


def test_a_few_mistakes_then_success_resets_the_count(client: Client, staff: User) -> None:
    for n in range(4):
        assert _login(client, "boss", f"typo-{n}").status_code == 200
    assert _login(client, "boss", PASSWORD).status_code == 302
    assert _signed_in(client)
    other = Client()
    for n in range(4):
        assert _login(other, "boss", f"typo-{n}").status_code == 200
    assert _login(other, "boss", PASSWORD).status_code == 302


def test_a_direct_client_cannot_dodge_the_address_lockout_with_a_forged_header(
    client: Client, staff: User, settings: Any
) -> None:
    """TRUSTED_PROXIES=1 (the compose default): a header from a peer that is not one of our
    proxies names nobody, so five guesses from one address lock it whatever it claims."""
    settings.TRUSTED_PROXIES = "1"
    for n in range(5):
        client.post(
            "/admin/login/",
            {"username": f"user{n}", "password": "guess", "next": "/admin/"},
            REMOTE_ADDR="198.51.100.77",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )
    forged = Client().post(
        "/admin/login/",
        {"username": "boss", "password": PASSWORD, "next": "/admin/"},
        REMOTE_ADDR="198.51.100.77",
        HTTP_X_FORWARDED_FOR="192.0.2.99",
    )
    assert forged.status_code == 429
    # Through our nginx (a private peer) the header is believed: that donor is not locked.
    proxied = Client()
    response = proxied.post(
        "/admin/login/",
        {"username": "boss", "password": PASSWORD, "next": "/admin/"},
        REMOTE_ADDR="172.18.0.3",
        HTTP_X_FORWARDED_FOR="192.0.2.99",
    )
    assert response.status_code == 302
    assert _signed_in(proxied)


def _urls(admin_url: str | None) -> subprocess.CompletedProcess[str]:
    code = (
        "from django.urls import reverse, resolve, Resolver404\n"
        "print(reverse('admin:index'))\n"
        "try:\n    resolve('/admin/'); print('admin/ served')\n"
        "except Resolver404:\n    print('admin/ not found')\n"
    )
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    if admin_url is not None:
        env["ADMIN_URL"] = admin_url
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_admin_url_comes_from_the_setting() -> None:
    default = _urls(None)
    assert default.returncode == 0, default.stderr
    assert default.stdout.split() == ["/admin/", "admin/", "served"]
    moved = _urls("staff-7f3a/")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.splitlines() == ["/staff-7f3a/", "admin/ not found"]


@pytest.mark.parametrize("bad", ["/admin/", "admin", "ad min/", "../x/"])
def test_a_malformed_admin_url_is_refused(bad: str) -> None:
    result = _urls(bad)
    assert result.returncode != 0
    assert "ADMIN_URL must be a relative path ending in a slash" in result.stderr
