""" "Export these" from an admin list, as a plain description a background job can keep:
the selected ids, or (all rows of the list selected) the changelist's own query parameters.
The worker rebuilds the rows through the same admin list, as the job's requester, so the
file has exactly the rows the page showed and a job row can name data, never code."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Model, QuerySet
from django.http import HttpRequest, QueryDict
from django.urls import reverse

from donations.models import Donation
from finance.services.export_filters import ExportError

# The exports an admin list offers "export these" for, by kind.
SELECTION_MODELS: dict[str, type[Model]] = {"donations": Donation}
MAX_IDS = 10_000


def selection_describe(request: HttpRequest, queryset: QuerySet[Any]) -> dict[str, Any]:
    """What the admin action was given: every row of the filtered list ("select all"), by
    the list's query parameters, or the rows ticked, by id."""
    if request.POST.get("select_across") in {"1", "True"}:
        return {"changelist": {key: request.GET.getlist(key) for key in request.GET}}
    return {"ids": [str(pk) for pk in queryset.values_list("pk", flat=True)[:MAX_IDS]]}


def _list_request(path: str, params: dict[str, list[str]], user: Any) -> HttpRequest:
    """The GET of the admin list, as its requester: what the list reads to filter."""
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = path
    query = QueryDict(mutable=True)
    for key, values in params.items():
        query.setlist(key, values)
    request.GET = QueryDict(query.urlencode())  # immutable, as a request's is
    request.META = {
        "QUERY_STRING": query.urlencode(),
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
    }
    request.user = user
    return request


def _str_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ExportError("An export selection holds only lists of strings")
    return value


def selection_queryset(*, kind: str, selection: dict[str, Any], user: Any) -> QuerySet[Any]:
    """The rows a stored selection names, read through the admin list as ``user`` sees it
    (its filters, its search, its permissions)."""
    model = SELECTION_MODELS.get(kind)
    if model is None or not isinstance(selection, dict):
        raise ExportError(f"No admin list selection for a {kind!r} export")
    model_admin = admin.site.get_model_admin(model)
    opts = model._meta
    path = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    if "ids" in selection:
        request = _list_request(path, {}, user)
        return model_admin.get_queryset(request).filter(pk__in=_str_list(selection["ids"]))
    params = selection.get("changelist")
    if not isinstance(params, dict):
        raise ExportError("An export selection names ids or a changelist")
    data = {str(key): _str_list(values) for key, values in params.items()}
    request = _list_request(path, data, user)
    try:
        changelist = model_admin.get_changelist_instance(request)
        return changelist.get_queryset(request)
    except IncorrectLookupParameters as exc:
        raise ExportError(f"The list's filters are no longer valid: {exc}") from exc
