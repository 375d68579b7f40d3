"""Language negotiation.

Django's LocaleMiddleware, with one change: with ``prefix_default_language=False`` it always
serves English at unprefixed URLs, ignoring the visitor. Here an unprefixed page is served
in the language the visitor chose with the switcher (the language cookie), else the first
of their browser's ``Accept-Language`` that we have, else English; ``/es/...`` is always
Spanish. The URL is resolved in the language its prefix names (English when it has none),
then the view runs in the visitor's language, so its links lead on to that language's
URLs. Responses at unprefixed URLs vary on ``Accept-Language`` and ``Cookie`` (Django's own
``process_response`` adds the first), and every response says its ``Content-Language``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers


class LocaleMiddleware(DjangoLocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        language = translation.get_language_from_request(request, check_path=True)
        prefixed = translation.get_language_from_path(request.path_info)
        # Resolve the URL in the language its prefix names: an unprefixed URL is an English
        # pattern whatever the visitor reads.
        translation.activate(prefixed or settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = language
        # Our own attribute, read back in process_view below.
        request._negotiated_language = language  # type: ignore[attr-defined]  # noqa: SLF001

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> None:
        translation.activate(request._negotiated_language)  # type: ignore[attr-defined]  # noqa: SLF001

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        negotiated = getattr(request, "_negotiated_language", None)
        if negotiated:
            translation.activate(negotiated)
        response = super().process_response(request, response)
        if not translation.get_language_from_path(request.path_info):
            patch_vary_headers(response, ("Cookie",))
            if negotiated and negotiated != settings.LANGUAGE_CODE:
                # Spanish at an English URL (the cookie or Accept-Language chose it): never
                # for a shared cache, whose key may be the URL alone; /es/... is the
                # cacheable address of that page.
                patch_cache_control(response, private=True)
                # nginx obeys X-Accel-Expires over Cache-Control: take it away too.
                if "X-Accel-Expires" in response:
                    del response["X-Accel-Expires"]
        return response
