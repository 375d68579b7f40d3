"""The admin index gathers the finance desk into one "Finance" section, in the order a
finance officer works; editors see none of it."""

from __future__ import annotations

import re

from django.test import Client

DESK_ORDER = [
    "Donations",
    "Payouts",
    "Payout lines",
    "Ledger",
    "Offline gifts",
    "Offline batches",
    "Refund requests",
    "Year-end statements",
    "Statement runs",
    "Statements sent",
    "Exports",
    "Dashboard",
    "Closed months",
    "Action log",
]


def _sections(html: str) -> dict[str, list[str]]:
    """Each section of the admin index (its caption) and the names of its rows, in order."""
    sections: dict[str, list[str]] = {}
    for table in re.findall(r'<div class="app-[^"]*module.*?</table>', html, re.S):
        caption = re.search(r"<caption>\s*<a[^>]*>([^<]+)</a>", table)
        assert caption is not None
        rows = re.findall(r'<th scope="row"[^>]*>\s*(?:<a[^>]*>)?([^<]+?)\s*<', table)
        sections[caption.group(1).strip()] = rows
    return sections


def test_finance_sees_the_desk_as_one_section_in_working_order(finance_client: Client) -> None:
    sections = _sections(finance_client.get("/admin/").content.decode())
    assert sections["Finance"] == DESK_ORDER
    assert next(iter(sections)) == "Finance"  # first: where a finance officer works
    # The rest of the money model stays under Donations; none of the desk's pages do.
    assert "Matching pools" in sections["Donations"]
    assert not set(sections["Donations"]) & set(DESK_ORDER)


def test_every_link_of_the_finance_section_opens(finance_client: Client) -> None:
    html = finance_client.get("/admin/").content.decode()
    finance = re.search(r"<caption>\s*<a[^>]*>Finance</a>.*?</table>", html, re.S)
    assert finance is not None
    links = re.findall(r'<th scope="row"[^>]*>\s*<a href="([^"]+)"', finance.group(0))
    assert len(links) == len(DESK_ORDER)
    for link in links:
        assert finance_client.get(link).status_code == 200, link


def test_editors_see_no_finance_section(editor_client: Client) -> None:
    sections = _sections(editor_client.get("/admin/").content.decode())
    assert "Finance" not in sections
    assert "Conservation projects" in sections
