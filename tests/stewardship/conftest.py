from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import admin_login
from tests.factories import STAFF_PASSWORD, EditorFactory, FinanceStaffFactory


@pytest.fixture
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_client_editor(db: None, _fast_passwords: None) -> Client:
    editor = EditorFactory.create(username="writer", email="writer@example.org")
    client = Client()
    admin_login(client, editor.username, STAFF_PASSWORD)
    return client


@pytest.fixture
def admin_client_finance(db: None, _fast_passwords: None) -> Client:
    finance = FinanceStaffFactory.create(username="books")
    client = Client()
    admin_login(client, finance.username, STAFF_PASSWORD)
    return client
