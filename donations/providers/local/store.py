"""The local provider's object store: Stripe-shaped objects kept in TestProviderObject,
their ids, and the localised URLs of its pages."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from donations.models import TestProviderObject

Json = dict[str, Any]


class UnknownObject(Exception):
    pass


def _new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


def _put(obj: Json) -> Json:
    TestProviderObject.objects.update_or_create(object_id=obj["id"], defaults={"data": obj})
    return obj


def _lookup(object_id: str) -> Json | None:
    row = TestProviderObject.objects.filter(object_id=object_id).first()
    return dict(row.data) if row else None


def _get(object_id: str) -> Json:
    obj = _lookup(object_id)
    if obj is None:
        raise UnknownObject(object_id)
    return obj


def _localised_reverse(name: str, locale: str | None, **kwargs: Any) -> str:
    languages = {code for code, _ in settings.LANGUAGES}
    language = locale if locale in languages else translation.get_language()
    with translation.override(language):
        return reverse(name, kwargs=kwargs)
