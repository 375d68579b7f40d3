"""Updates shown in other rooms' pages: the project page's latest updates, My gifts' choice
of update emails. (Template tags, so projects/ and donations/ import nothing from here.)"""

from __future__ import annotations

from typing import Any

from django import template

from projects.models import Project
from stewardship import selectors

register = template.Library()
LATEST = 3


@register.inclusion_tag("stewardship/_latest.html")
def latest_updates(project: Project) -> dict[str, Any]:
    """The project page's latest public updates (the page is cached for every visitor)."""
    return {
        "project": project,
        "updates": list(selectors.updates_listed(project, donor=False)[:LATEST]),
    }


@register.inclusion_tag("stewardship/_my_gifts_choice.html", takes_context=True)
def update_email_choice(context: dict[str, Any], email: str) -> dict[str, Any]:
    choices = selectors.choices_for(email)
    projects = [(p, choices.projects.get(p.pk, True)) for p in selectors.given_projects(email)]
    return {"choices": choices, "projects": projects, "csrf_token": context.get("csrf_token")}
