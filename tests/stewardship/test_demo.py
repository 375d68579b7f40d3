"""The issue's Done-when on the one-command demo (SQLite, tasks in-process, console email):
after ``load_demo --funded`` the seed project's updates page shows the demo update, its feed
is Atom with an entry, and the console shows one update email per demo donor address, each
with its one-click unsubscribe headers, in English and in Spanish."""

from __future__ import annotations

import re
from pathlib import Path

from tests.donations.test_demo_sqlite import _manage

CHECK = """
import xml.etree.ElementTree as ET
from django.test import Client
c = Client()
page = c.get('/projects/andes-amazon-corridor/updates/')
feed = c.get('/projects/andes-amazon-corridor/updates/feed/')
entries = ET.fromstring(feed.content).findall('{http://www.w3.org/2005/Atom}entry')
print('CHECK', page.status_code, 'The survey found the frog' in page.content.decode(),
      feed.status_code, len(entries))
"""


def test_load_demo_funded_publishes_and_emails_the_demo_update(tmp_path: Path) -> None:
    assert _manage(tmp_path, "migrate", "--noinput").returncode == 0
    done = _manage(tmp_path, "load_demo", "--funded")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    # The console backend writes each message to stdout, headers first.
    messages = [m for m in done.stdout.split("-" * 79) if "List-Unsubscribe-Post:" in m]
    addresses = sorted(re.search(r"^To: (.+)$", m, re.M).group(1) for m in messages)  # type: ignore[union-attr]
    assert addresses == sorted(set(addresses))  # one each
    assert {"andes-fund@example.org", "maria@example.org"} <= set(addresses)
    for message in messages:
        assert re.search(
            r"^List-Unsubscribe: *\n? *<http://[^>]+/updates/unsubscribe/", message, re.M
        )
        assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in message
    maria = next(m for m in messages if "To: maria@example.org" in m)
    assert "El censo encontró la rana" in maria  # her gift was in Spanish
    assert any("The survey found the frog" in m for m in messages)

    check = _manage(tmp_path, "shell", "-c", CHECK)
    assert check.returncode == 0, check.stderr[-3000:]
    assert check.stdout.split("CHECK")[-1].split() == ["200", "True", "200", "1"]

    again = _manage(tmp_path, "load_demo", "--funded")  # idempotent: nobody emailed twice
    assert again.returncode == 0
    assert "List-Unsubscribe-Post:" not in again.stdout
