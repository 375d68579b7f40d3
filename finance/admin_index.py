"""The admin index's "Finance" section: the desk's pages in the order a finance officer
works (gifts, payouts and their lines, the ledger, offline gifts and batches, refunds,
statements, exports, the dashboard, closed months, the action log), taken out of the "Donations" section
their models' app label would put them in. Each user sees only the pages they may open."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from finance.permissions import P_DASHBOARD, P_EXPORT, P_PERIODS, P_SEND, desk_user

# (model object name, or the desk page's URL name), in the desk's order.
DESK_ORDER: list[str] = [
    "Donation",
    "Payout",
    "PayoutLine",
    "LedgerEntry",
    "OfflineGift",
    "OfflineBatch",
    "RefundRequest",
    "page:statements",
    "StatementRun",
    "StatementSent",
    "page:exports",
    "page:dashboard",
    "page:periods",
    "FinanceAction",
]
DESK_PAGES = {
    "page:statements": ("Year-end statements", "donations_financedesk_statements", P_SEND),
    "page:exports": ("Exports", "donations_financedesk_exports", P_EXPORT),
    "page:dashboard": ("Dashboard", "donations_financedesk_dashboard", P_DASHBOARD),
    "page:periods": ("Closed months", "donations_financedesk_periods", P_PERIODS),
}
DESK_MODELS = {name for name in DESK_ORDER if not name.startswith("page:")} | {"FinanceDesk"}
# What the desk calls a list where the model's own name reads like a table.
DESK_NAMES = {"LedgerEntry": "Ledger", "FinanceAction": "Action log"}


def _page(key: str, request: HttpRequest) -> dict[str, Any] | None:
    name, url_name, perm = DESK_PAGES[key]
    if not request.user.has_perm(perm):
        return None
    return {
        "name": name,
        "object_name": key.replace("page:", "FinanceDesk_"),
        "admin_url": reverse(f"admin:{url_name}"),
        "add_url": None,
        "view_only": True,
        "perms": {"view": True},
    }


def finance_section(request: HttpRequest, app_list: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``app_list`` (AdminSite.get_app_list's) with the desk's pages as one "Finance"
    section, first (it is where a finance officer works); the "Donations" section keeps the
    rest of the money model."""
    found: dict[str, dict[str, Any]] = {}
    for app in app_list:
        if app["app_label"] != "donations":
            continue
        for model in app["models"]:
            if model["object_name"] in DESK_MODELS:
                name = DESK_NAMES.get(model["object_name"], model["name"])
                found[model["object_name"]] = {**model, "name": name}
        app["models"] = [m for m in app["models"] if m["object_name"] not in DESK_MODELS]
    entries = []
    for key in DESK_ORDER:
        entry = _page(key, request) if key.startswith("page:") else found.get(key)
        if entry is not None:
            entries.append(entry)
    sections = [app for app in app_list if app["models"]]
    if entries:
        sections.insert(
            0,
            {
                "name": "Finance",
                "app_label": "finance",
                "app_url": reverse("admin:donations_financedesk_changelist")
                if desk_user(request)
                else entries[0]["admin_url"],
                "has_module_perms": True,
                "models": entries,
            },
        )
    return sections
