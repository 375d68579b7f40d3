"""campaign/form_renderer.py writes Django's standard widget templates as Python: every
widget it renders must come out exactly as Django's own template renderer writes it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from campaign.form_renderer import DJANGO_WIDGETS, FastWidgetRenderer
from donations.forms import DonateForm


class EdgeForm(forms.Form):
    """Widgets and values the donate form does not have: escaping, groups, safe strings."""

    quoted = forms.CharField(widget=forms.TextInput(attrs={"data-x": 'a"<b>&', "hidden": True}))
    safe = forms.CharField(widget=forms.TextInput(attrs={"title": mark_safe("<i>ok</i>")}))
    off = forms.CharField(widget=forms.TextInput(attrs={"disabled": False}))
    number = forms.IntegerField()
    when = forms.DateField(widget=forms.DateInput)
    hidden = forms.CharField(widget=forms.HiddenInput)
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True))
    grouped = forms.ChoiceField(
        choices=[("Trees", [("oak", "Oak & ash"), ("yew", "Yew")]), ("", "<none>")]
    )
    many = forms.MultipleChoiceField(choices=[(1, gettext_lazy("One")), (2, "Two")])
    ticks = forms.MultipleChoiceField(
        choices=[("a", "A"), ("b", "B")], widget=forms.CheckboxSelectMultiple
    )
    radios = forms.ChoiceField(choices=[("x", "X <1>"), ("y", "Y")], widget=forms.RadioSelect)
    flag = forms.BooleanField(required=False)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


EDGE_DATA = {
    "quoted": "<script>",
    "safe": "x",
    "number": "1000",
    "when": "2026-12-07",
    "hidden": "h&",
    "secret": 's"',
    "grouped": "yew",
    "many": ["2"],
    "ticks": ["b"],
    "radios": "x",
    "flag": "on",
    "text": "line one\n<b>two</b>",
}


def _forms() -> list[forms.Form]:
    return [
        DonateForm(currency="USD"),
        DonateForm(currency="EUR"),
        DonateForm({"preset": "50", "currency": "GBP", "anonymous": "on", "message": "Hi & <3"}),
        EdgeForm(),
        EdgeForm(EDGE_DATA),
        EdgeForm(initial={"when": date(2026, 1, 2), "number": 12345, "many": [1, 2]}),
    ]


def _rendered(form: forms.Form, renderer: Any) -> list[str]:
    form.renderer = renderer
    out = []
    for bound in form:
        out.append(str(bound))  # the widget, as {{ form.field }} writes it
        for option in getattr(bound, "subwidgets", []):
            out.append(str(option.tag()))  # {{ radio.tag }}, as the donate form writes it
            out.append(str(option))  # the option with its label
    return out


@pytest.mark.parametrize("form_index", range(6))
def test_every_widget_renders_as_djangos_templates_do(form_index: int) -> None:
    fast, django_own = FastWidgetRenderer(), DjangoTemplates()
    assert _rendered(_forms()[form_index], fast) == _rendered(_forms()[form_index], django_own)


def test_the_site_renders_forms_with_it(settings: Any) -> None:
    from django.forms.renderers import get_default_renderer

    assert settings.FORM_RENDERER == "campaign.form_renderer.FastWidgetRenderer"
    assert isinstance(get_default_renderer(), FastWidgetRenderer)


def test_a_template_an_app_overrides_is_left_to_the_engine(tmp_path: Any) -> None:
    """Only Django's own files are written as Python: an override is rendered as written."""
    override = tmp_path / "django" / "forms" / "widgets"
    override.mkdir(parents=True)
    (override / "input.html").write_text('<input data-overridden name="{{ widget.name }}">')

    class Overridden(FastWidgetRenderer):
        @property
        def engine(self) -> Any:  # the override's folder first, as an app's would be
            dirs = [tmp_path, DJANGO_WIDGETS]
            return self.backend({"APP_DIRS": True, "DIRS": dirs, "NAME": "o", "OPTIONS": {}})

    form = EdgeForm()
    form.renderer = Overridden()
    assert str(form["hidden"]) == '<input data-overridden name="hidden">'
    assert str(form["text"]).startswith('<textarea name="text" cols="40" rows="3"')
