"""The desk's own pages, which have no table of their own: they hang off the FinanceDesk
model's URLs (exports and their jobs, statements, the dashboard, closed months) and its landing page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path

from donations.admin_base import NoWrites
from finance.admin.dashboard import dashboard_view
from finance.admin.desk_pages import desk_page
from finance.admin.exports import export_download_view, export_job_view, exports_view
from finance.admin.periods import periods_view
from finance.admin.statements import statement_print_view, statements_view
from finance.models import FinanceDesk
from finance.permissions import P_DASHBOARD, P_EXPORT, P_PERIODS, P_SEND, desk_user


@admin.register(FinanceDesk)
class FinanceDeskAdmin(NoWrites, admin.ModelAdmin):  # type: ignore[type-arg]
    def has_module_permission(self, request: HttpRequest) -> bool:
        return desk_user(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return desk_user(request)

    def get_urls(self) -> list[Any]:
        def page(view: Any) -> Any:
            return self.admin_site.admin_view(lambda request, **kw: view(self, request, **kw))

        return [
            path("", page(desk_view), name="donations_financedesk_changelist"),
            path("exports/", page(exports_view), name="donations_financedesk_exports"),
            path(
                "exports/<uuid:token>/",
                page(export_job_view),
                name="donations_financedesk_export_job",
            ),
            path(
                "exports/<uuid:token>/download/",
                page(export_download_view),
                name="donations_financedesk_export_download",
            ),
            path("statements/", page(statements_view), name="donations_financedesk_statements"),
            path("dashboard/", page(dashboard_view), name="donations_financedesk_dashboard"),
            path("periods/", page(periods_view), name="donations_financedesk_periods"),
            path(
                "statements/print/",
                page(statement_print_view),
                name="donations_financedesk_statement_print",
            ),
        ]


def desk_view(model_admin: Any, request: HttpRequest) -> HttpResponse:
    if not desk_user(request):
        raise PermissionDenied
    return desk_page(
        model_admin,
        request,
        "admin/finance/desk.html",
        "Finance desk",
        can_export=request.user.has_perm(P_EXPORT),
        can_send=request.user.has_perm(P_SEND),
        can_dashboard=request.user.has_perm(P_DASHBOARD),
        can_close=request.user.has_perm(P_PERIODS),
    )
