"""The finance action log: one append-only row per finance action (who, when, what)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from finance.models import FinanceAction

Actor = AbstractBaseUser | AnonymousUser | str | None


def action_record(
    kind: str, actor: Actor, summary: str, *, target: str = "", detail: dict[str, Any] | None = None
) -> FinanceAction:
    """Write one action. ``actor`` is the signed-in user, or a label such as
    "command: export_donations" for work started outside the admin."""
    user = actor if isinstance(actor, AbstractBaseUser) else None
    if user is not None:
        label = user.get_username()
    elif isinstance(actor, str) and actor:
        label = actor
    else:
        label = "system"
    return FinanceAction.objects.create(
        kind=kind,
        actor_id=user.pk if user is not None else None,
        actor_label=label[:150],
        summary=summary[:300],
        target=target[:255],
        detail=detail or {},
    )
