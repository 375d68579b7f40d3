"""Admin building blocks shared by the donations admin and the finance desk: what nobody
may add, change or delete from the admin (money is written by the payment path and the
desk's services only), as lists built for a million rows and as inlines."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from donations.admin_scale import EstimatedCountPaginator, exact_search


class NoWrites:
    """No add, change or delete from the admin: read only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(NoWrites, admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False


class ReadOnlyAdmin(NoWrites, admin.ModelAdmin):  # type: ignore[type-arg]
    """Money written by the payment path only: finance reads, nobody adds, edits or deletes.
    Lists never count the whole table (show_full_result_count; the page count is the
    planner's estimate once large, donations/admin_scale.py) and never join more than they
    show (list_select_related); foreign keys are raw ids, not million-row selects."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 100
    show_facets = admin.ShowFacets.NEVER

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        return exact_search(queryset, self.get_search_fields(request), search_term), False
