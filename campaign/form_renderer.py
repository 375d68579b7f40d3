"""The form renderer (settings.FORM_RENDERER): Django's own, with its standard widget
templates written as Python.

Each widget Django renders goes through the template engine: a new context, the widget's
template and an include of ``attrs.html`` per element (the donate form's eight widgets cost
more than the rest of its markup). The templates below produce, character for character,
what Django's files of the same name produce (tests/projects/test_form_renderer.py renders
every one both ways); a name not listed, or one an installed app overrides, is rendered by
the template engine as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import django
from django.forms.renderers import DjangoTemplates
from django.template import Context, TemplateDoesNotExist
from django.template.base import render_value_in_context
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe

DJANGO_WIDGETS = Path(django.__file__).parent / "forms" / "templates"
AUTOESCAPED = Context(autoescape=True)  # as the widget templates render


def _text(value: Any) -> str:
    """``{{ value }}`` in an autoescaped template."""
    return str(render_value_in_context(value, AUTOESCAPED))


def _as_s(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``: the filter keeps a safe string safe."""
    formatted = str(value)
    return str(formatted if isinstance(value, SafeData) else conditional_escape(formatted))


def _attrs(attrs: Mapping[str, Any]) -> str:
    """django/forms/widgets/attrs.html"""
    return "".join(
        f" {_text(name)}" + ("" if value is True else f'="{_as_s(value)}"')
        for name, value in attrs.items()
        if value is not False
    )


def _input(w: Mapping[str, Any]) -> str:
    """django/forms/widgets/input.html (and the widgets that only include it)"""
    value = "" if w["value"] is None else f' value="{_as_s(w["value"])}"'
    return f'<input type="{_text(w["type"])}" name="{_text(w["name"])}"{value}{_attrs(w["attrs"])}>'


def _input_option(w: Mapping[str, Any]) -> str:
    """django/forms/widgets/input_option.html (radio_option.html, checkbox_option.html)"""
    if not w.get("wrap_label"):
        return _input(w)
    target = w["attrs"].get("id")
    label_for = f' for="{_text(target)}"' if target else ""
    # input.html ends with a line break, which its include keeps.
    return f"<label{label_for}>{_input(w)}\n {_text(w['label'])}</label>"


def _select_option(w: Mapping[str, Any]) -> str:
    """django/forms/widgets/select_option.html"""
    return f'<option value="{_as_s(w["value"])}"{_attrs(w["attrs"])}>{_text(w["label"])}</option>'


def _select(w: Mapping[str, Any], option: Callable[[Mapping[str, Any]], str | None]) -> str:
    """django/forms/widgets/select.html"""
    parts = [f'<select name="{_text(w["name"])}"{_attrs(w["attrs"])}>']
    for group_name, group_choices, _index in w["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for choice in group_choices:
            html = option(choice)
            if html is None:
                return ""  # an option with a template of its own: the engine renders it all
            parts.append(f"\n  {html}\n")  # the included file's own last line break
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _textarea(w: Mapping[str, Any]) -> str:
    """django/forms/widgets/textarea.html"""
    body = _text(w["value"]) if w["value"] else ""
    return f'<textarea name="{_text(w["name"])}"{_attrs(w["attrs"])}>\n{body}</textarea>'


WIDGETS = "django/forms/widgets/"
INPUTS = ("text", "email", "number", "password", "url", "hidden", "checkbox", "search", "tel")
OPTIONS = ("input_option", "radio_option", "checkbox_option")


class FastWidgetRenderer(DjangoTemplates):
    """Django's template renderer; its standard widget templates in Python."""

    @cached_property
    def _fast(self) -> dict[str, Callable[[Mapping[str, Any]], str | None]]:
        # Each name, its function, and the templates it includes (all must be Django's).
        inputs = ("input.html", "attrs.html")
        options = ("input_option.html", *inputs)
        table: dict[str, tuple[Callable[[Mapping[str, Any]], str | None], tuple[str, ...]]] = {
            **{f"{n}.html": (_input, inputs) for n in INPUTS},
            **{f"{n}.html": (_input_option, options) for n in OPTIONS},
            "input.html": (_input, inputs),
            "select_option.html": (_select_option, ("attrs.html",)),
            "select.html": (lambda w: _select(w, self._option), ("attrs.html",)),
            "textarea.html": (_textarea, ("attrs.html",)),
        }
        return {
            WIDGETS + name: fn
            for name, (fn, includes) in table.items()
            if all(self._is_djangos(WIDGETS + n) for n in (name, *includes))
        }

    def _is_djangos(self, name: str) -> bool:
        try:
            origin = self.get_template(name).origin.name  # type: ignore[attr-defined]
        except TemplateDoesNotExist:
            return False
        return Path(str(origin)).is_relative_to(DJANGO_WIDGETS)

    def _option(self, option: Mapping[str, Any]) -> str | None:
        fn = self._fast.get(option["template_name"])
        return None if fn is None else fn(option)

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        fn = self._fast.get(template_name)
        widget = context.get("widget") if fn is not None and len(context) == 1 else None
        html = fn(widget) if widget is not None and fn is not None else None
        if not html:
            return str(super().render(template_name, context, request))
        return mark_safe(html)  # noqa: S308 - every value in it escaped as the templates do
