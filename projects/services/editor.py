"""The admin's rich-text editor (django-prose-editor) under our Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
import re

from django_prose_editor.widgets import importmap

# Tiptap (inside the editor's editor.js) adds one <style> element with its base CSS. Its hash,
# for django-prose-editor 0.28 as pinned in the lock files; tests/browser/test_admin_editor.py
# fails on any blocked style or script, so an upgrade that changes it is caught.
TIPTAP_STYLE_HASH = "'sha256-PlumsSlvJ7vvWzjqibGAYKq92O3y/4JTxWWsWJvyUYA='"


def prose_editor_csp_update() -> dict[str, list[str]]:
    """What an admin page with the editor adds to the Content-Security-Policy: exactly its
    import map and Tiptap's style element, by hash, rather than 'unsafe-inline'."""
    return {
        "script-src": [prose_editor_importmap_hash()],
        "style-src-elem": [TIPTAP_STYLE_HASH],
    }


def prose_editor_importmap_hash() -> str:
    """The CSP source (``'sha256-…'``) of the editor's ``<script type="importmap">``, as
    rendered now (its URLs go through ``static()``, so they carry the manifest's hashes in
    production)."""
    match = re.fullmatch(r'<script type="importmap"[^>]*>(.*)</script>', str(importmap), re.S)
    if match is None:  # pragma: no cover - a change in django-js-asset's markup
        raise RuntimeError(f"Unexpected import map markup: {importmap}")
    digest = hashlib.sha256(match.group(1).encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"
