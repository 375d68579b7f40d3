"""Unsubscribing from update emails (RFC 8058 one-click, the link's page, My gifts) and
subscribing again: each choice is a new UpdateConsent row, the consent record.

The unsubscribe URL carries the address and the project, signed with the site's key and
its own salt. It never expires: an unsubscribe link must work for as long as the email
is in someone's inbox. It only ever records an opt-out, so a leaked link can do no worse.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import translation

from projects.models import Project
from stewardship.models import UpdateConsent

SALT = "stewardship.unsubscribe"


@dataclass(frozen=True)
class Unsubscriber:
    email: str
    project: Project


class TokenInvalid(Exception):
    """Not a link we made (or for a project that no longer exists)."""


def unsubscribe_token(*, email: str, project_id: int) -> str:
    return signing.dumps({"e": email, "p": project_id}, salt=SALT, compress=True)


def unsubscribe_url(*, email: str, project_id: int, language: str) -> str:
    """The absolute URL for List-Unsubscribe and the email's visible link."""
    token = unsubscribe_token(email=email, project_id=project_id)
    with translation.override(language):
        path = reverse("stewardship:unsubscribe", kwargs={"token": token})
    return f"{settings.SITE_URL}{path}"


def unsubscribe_read(token: str) -> Unsubscriber:
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature as exc:
        raise TokenInvalid(str(exc)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("e"), str):
        raise TokenInvalid("malformed")
    if not isinstance(data.get("p"), int):
        raise TokenInvalid("malformed")
    project = Project.objects.filter(pk=int(data["p"])).first()
    if project is None:
        raise TokenInvalid("no such project")
    return Unsubscriber(email=data["e"], project=project)


def choice_record(
    *, email: str, project: Project | None, subscribed: bool, source: str
) -> UpdateConsent:
    """Record a choice (``project`` None: every project's updates). Appended, never
    overwritten: the record keeps when and through what each choice was made. A repeated
    one-click POST (mail clients retry) adds another row; the choice in force is the same."""
    return UpdateConsent.objects.create(
        email=email.strip(), project=project, subscribed=subscribed, source=source
    )
