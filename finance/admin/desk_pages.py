"""What every page of the finance desk shares: the permission check each view makes itself
(whatever links the pages show), the page in the admin's frame, and the page with one form
that calls a service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


def require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied(f"Finance only ({perm})")


def desk_page(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    template: str,
    title: str,
    *,
    status: int = 200,
    **extra: Any,
) -> TemplateResponse:
    """A desk page inside the admin's frame (its header, breadcrumbs and sidebar)."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.opts,
        **extra,
    }
    return TemplateResponse(request, template, context, status=status)


def form_page(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    *,
    form_class: type[forms.Form],
    template: str,
    title: str,
    submit: Callable[[dict[str, Any]], HttpResponse],
    refused: type[Exception] | tuple[type[Exception], ...],
    initial: dict[str, Any] | None = None,
    **extra: Any,
) -> HttpResponse:
    """A page with one form: GET shows it; a valid POST calls ``submit`` (one service call,
    answering with the redirect). An invalid form or a refusal by the service (``refused``,
    whose message is shown) shows the form again with the reason, answering 400."""
    status = 200
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            try:
                return submit(form.cleaned_data)
            except refused as exc:
                form.add_error(None, str(exc))
        status = 400
    else:
        form = form_class(initial=initial)
    return desk_page(model_admin, request, template, title, status=status, form=form, **extra)
