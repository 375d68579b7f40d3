"""The money models' field history (django-pghistory rows) as a read-only table on their
change pages: who changed what, and what each change left."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join


def history_table(obj: Any, fields: list[str]) -> str:
    """The money fields' history (django-pghistory rows), newest first, as a table: who
    (the signed-in user, when the change came from the admin) and what each change left."""
    rows = list(
        obj.history.select_related("pgh_context").order_by("-pgh_id")[:100]  # type: ignore[attr-defined]
    )
    if not rows:
        return "No history recorded (it is kept on PostgreSQL only)."
    head = format_html_join(
        "", "<th>{}</th>", ((f.replace("_", " "),) for f in ["when", "event", *fields, "by"])
    )
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        (
            (
                format_html_join(
                    "",
                    "<td>{}</td>",
                    (
                        (value,)
                        for value in [
                            f"{row.pgh_created_at:%Y-%m-%d %H:%M:%S}",
                            row.pgh_label,
                            *[getattr(row, f) for f in fields],
                            _context_label(row),
                        ]
                    ),
                ),
            )
            for row in rows
        ),
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


class FieldHistoryMixin:
    """A change page's read-only "History" table of the money fields (django-pghistory), for
    staff with ``history_permission``."""

    history_permission = ""
    history_shown: list[str] = []

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        if obj is not None and request.user.has_perm(self.history_permission):
            fields.append("field_history")
        return fields

    @admin.display(description="History")
    def field_history(self, obj: Any) -> str:
        return history_table(obj, self.history_shown)


def _context_label(row: Any) -> str:
    """Who made the change: a signed-in user and the page, or the system (Stripe's webhook,
    a task or a command; the webhook's path is named when it came through it)."""
    context = getattr(row, "pgh_context", None)
    if context is None:
        return "system (task or command)"
    metadata = context.metadata or {}
    user, url = metadata.get("user"), metadata.get("url", "")
    name = User.objects.filter(pk=user).values_list("username", flat=True).first() if user else None
    if name is None:
        return f"system via {url}" if url else "system (task or command)"
    return f"{name} via {url}"


DONATION_HISTORY_SHOWN = [
    "status",
    "charged",
    "settled",
    "stripe_fee",
    "net",
    "refunded",
    "counted",
    "needs_review",
]
PAYOUT_HISTORY_SHOWN = ["status", "amount", "arrival_date", "lines_status", "difference"]
POOL_HISTORY_SHOWN = ["cap", "ratio", "starts_at", "ends_at", "active", "allocated"]
