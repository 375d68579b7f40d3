"""The action log: who did what on the desk, when. Readable, never editable (the database
refuses changes too)."""

from __future__ import annotations

from django.contrib import admin

from donations.admin_base import NoWrites
from finance.models import FinanceAction


@admin.register(FinanceAction)
class FinanceActionAdmin(NoWrites, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["created_at", "actor_label", "kind", "summary", "target"]
    list_filter = ["kind"]
    search_fields = ["=target", "actor_label", "summary"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "actor", "actor_label", "kind", "summary", "target", "detail"]
    show_full_result_count = False
