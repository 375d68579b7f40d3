"""Helpers for the projects tests: an Editors-group login and the admin form as a browser sees it."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from PIL import Image

from tests.conftest import admin_login
from tests.factories import EditorFactory, FinanceStaffFactory

EDITOR_PASSWORD = "an-editor-pass-4817"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Logins are part of these tests, not what they measure: skip PBKDF2's deliberate cost."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def editor(db: None) -> User:
    return EditorFactory.create(username="editor", password=EDITOR_PASSWORD)


@pytest.fixture
def editor_client(editor: User) -> Client:
    c = Client()
    admin_login(c, editor.username, EDITOR_PASSWORD)
    return c


FINANCE_PASSWORD = "a-finance-pass-6620"


@pytest.fixture
def finance_client(db: None) -> Client:
    """Finance staff: the money figures of a project are theirs to change."""
    user = FinanceStaffFactory.create(username="finance", password=FINANCE_PASSWORD)
    c = Client()
    admin_login(c, user.username, FINANCE_PASSWORD)
    return c


class _FormParser(HTMLParser):
    """Collects what a browser would submit from one <form>: inputs, selects, textareas."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.in_form = False
        self.data: dict[str, Any] = {}
        self._select: str | None = None
        self._select_multiple = False
        self._select_first: str | None = None
        self._select_chosen = False
        self._in_option = False
        self._option_value: str | None = None
        self._option_selected = False
        self._option_text = ""
        self._textarea: str | None = None
        self._textarea_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.in_form = True
            return
        if not self.in_form:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.data[name] = a.get("value", "on")
                return
            self.data[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select, self._select_multiple = name, "multiple" in a
            self._select_first, self._select_chosen = None, False
            if self._select_multiple:
                self.data[name] = []
        elif tag == "option" and self._select:
            self._in_option = True
            self._option_value = a.get("value")
            self._option_selected = "selected" in a
            self._option_text = ""
        elif tag == "textarea" and name:
            self._textarea, self._textarea_text = name, ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea_text += data
        elif self._in_option:
            self._option_text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.in_form:
            self.in_form = False
        elif tag == "option" and self._select:
            self._in_option = False
            value = self._option_value if self._option_value is not None else self._option_text
            if self._select_first is None:
                self._select_first = value
            if self._option_selected:
                if self._select_multiple:
                    self.data[self._select].append(value)
                else:
                    self.data[self._select] = value
                    self._select_chosen = True
            self._option_value, self._option_selected = None, False
        elif tag == "select" and self._select:
            if not self._select_multiple and not self._select_chosen:
                self.data[self._select] = self._select_first or ""
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # Browsers drop the single newline that follows <textarea>.
            self.data[self._textarea] = self._textarea_text.removeprefix("\n")
            self._textarea = None


def admin_form_data(html: str, form_id: str = "project_form") -> dict[str, Any]:
    """The fields of an admin change form with the values a browser would submit unchanged.

    The inline formsets' hidden "empty form" templates (prefix ``__prefix__``) are left out,
    as a browser submits them only after JavaScript turned them into real forms.
    """
    parser = _FormParser(form_id)
    parser.feed(html)
    assert parser.data, f"no <form id={form_id!r}> with fields in the page"
    return {k: v for k, v in parser.data.items() if "__prefix__" not in k}


def inline_prefixes(data: dict[str, Any]) -> set[str]:
    return {k.removesuffix("-TOTAL_FORMS") for k in data if k.endswith("-TOTAL_FORMS")}


def add_inline(data: dict[str, Any], prefix: str, fields: dict[str, Any]) -> None:
    """Append one new form to an inline formset, as the admin's "Add another" button does."""
    n = int(data[f"{prefix}-TOTAL_FORMS"])
    for key, value in fields.items():
        data[f"{prefix}-{n}-{key}"] = value
    data[f"{prefix}-TOTAL_FORMS"] = str(n + 1)


def media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def image_bytes(
    width: int,
    height: int,
    *,
    fmt: str = "JPEG",
    exif: Image.Exif | None = None,
    noise: bool = False,
    quality: int = 90,
) -> bytes:
    if noise:
        import os

        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), (40, 120, 70))
        # A marker in the top-left corner, so rotation is visible in the pixels too.
        image.paste((250, 20, 20), (0, 0, width // 4, height // 8))
    out = io.BytesIO()
    kwargs: dict[str, Any] = {"format": fmt}
    if fmt == "JPEG":
        kwargs["quality"] = quality
    if exif is not None:
        kwargs["exif"] = exif
    image.save(out, **kwargs)
    return out.getvalue()


def form_errors(html: str) -> str:
    """The admin's error lists, for assertion messages."""
    import re

    found = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)
    found += re.findall(r'<p class="errornote">(.*?)</p>', html, re.S)
    return " | ".join(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", f)).strip() for f in found)
