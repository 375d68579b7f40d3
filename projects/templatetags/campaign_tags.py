from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from django import template
from django.conf import settings
from django.utils.html import format_html, strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from djmoney.money import Money

from projects import formatting
from projects.services.images import MIME_TYPES, MODERN_FORMATS
from projects.services.sanitize import html_sanitize
from projects.sharing import share_links as links_for

register = template.Library()


@register.filter
def money(value: Money | None) -> str:
    return formatting.money_format(value)


@register.filter
def money_in(amount: Decimal | int | None, currency: str) -> str:
    """An amount in a currency, as the money filter writes it: 25|money_in:"USD"."""
    return formatting.amount_format(amount, currency)


@register.filter
def number(value: Decimal | int | None) -> str:
    """285,288 / 285.288 (whole) or 47.5 / 47,5 (fractional), grouped as the language does."""
    return formatting.number_format(value)


@register.filter
def currency_symbol(code: str) -> str:
    """$ for USD, € for EUR, ¥ for JPY in English; US$, €, JPY in Spanish (CLDR)."""
    return formatting.currency_symbol(code)


@register.filter
def paragraphs(text: str) -> list[str]:
    """Paragraphs separated by a blank line, whatever the line endings (a browser sends
    ``\r\n``; a blank line may hold spaces)."""
    normalised = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    return [p.strip() for p in re.split(r"\n[ \t]*\n", normalised) if p.strip()]


CREDIT_PREFIX = re.compile(
    r"^\s*(photo|image|picture|illustration)?\s*(courtesy|credit|by\b|©|\(c\))", re.I
)


@register.filter
def credit_line(credit: str) -> str:
    """ "Photo courtesy of NAME." unless the editor already wrote such a phrase."""
    text = (credit or "").strip()
    if not text:
        return ""
    if CREDIT_PREFIX.match(text):
        return text if text.endswith(".") else f"{text}."
    return gettext("Photo courtesy of %(credit)s.") % {"credit": text.rstrip(".")}


@register.filter
def lead_is_teaser(lead: str, body: str) -> bool:
    """Whether a section's lead is the start of its body (a teaser, often ending "..."): the
    page then hides the lead once "Read more" is open, so the sentence is not read twice."""
    stem = re.sub(r"(\.\.\.|…|\.)\s*$", "", (lead or "").strip())
    if not stem:
        return False
    text = " ".join(strip_tags(html_sanitize(body or "")).split())
    return text.startswith(" ".join(stem.split()))


def _by_format(renditions: dict[str, Any]) -> dict[str, dict[str, str]]:
    """{format: {width: name}}; renditions stored before WebP ({width: name}) are JPEG."""
    if renditions and all(str(k).isdigit() for k in renditions):
        return {"jpeg": {str(k): str(v) for k, v in renditions.items()}}
    return {k: v for k, v in (renditions or {}).items() if isinstance(v, dict)}


def _candidates(names: dict[str, str]) -> str:
    return ", ".join(
        f"{settings.MEDIA_URL}{name} {w}w"
        for w, name in sorted(names.items(), key=lambda kv: int(kv[0]))
    )


@register.simple_tag
def srcset(renditions: dict[str, Any], original: str, width: int) -> str:
    """The fallback (JPEG or PNG) srcset: its renditions plus the original at its true width
    (left out when the width is unknown, rather than guessed)."""
    formats = _by_format(renditions)
    names = dict(formats.get("jpeg") or formats.get("png") or {})
    if original and width:
        names[str(width)] = original
    return _candidates(names)


@register.simple_tag
def picture_sources(renditions: dict[str, Any]) -> list[tuple[str, str]]:
    """(MIME type, srcset) for each modern format of a photo, best first, for <source>."""
    formats = _by_format(renditions)
    return [
        (MIME_TYPES[key], _candidates(formats[key]))
        for key, _fmt, _options in MODERN_FORMATS
        if formats.get(key)
    ]


@register.filter
def rich_text(html: str) -> SafeString:
    """Staff rich text, cleaned again as it is rendered: saving cleans it too, but rows written
    around ``save()`` (bulk updates, raw SQL, old data) must never reach a page unclean."""
    return mark_safe(html_sanitize(html or ""))  # noqa: S308 - sanitised just above


@register.filter
def json_ld(data: dict[str, Any]) -> SafeString:
    """A schema.org JSON-LD block. Escaped as json_script escapes (no "</script>" can end it
    early); a data block, not a script, so the Content-Security-Policy does not apply."""
    from django.core.serializers.json import DjangoJSONEncoder
    from django.utils.html import _json_script_escapes  # type: ignore[attr-defined]

    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(
        _json_script_escapes
    )
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))  # noqa: S308


@register.inclusion_tag("projects/_share.html")
def share_links(
    project: Any, *, share_code: str = "", heading: str = "", given: bool = False
) -> dict[str, Any]:
    """Plain share links (no third-party script) for a project, each with its referral code,
    in the page's language; ``share_code`` is the sharing gift's, and ``given`` says the
    donor shares the gift they just made (the thank-you page)."""
    if given:
        text = gettext("I just gave to protect land for wildlife: %(title)s. Will you join me?")
    else:
        text = gettext("Help protect %(acres)s acres in %(place)s: %(title)s")
    text = text % {
        "title": project.title,
        "acres": formatting.number_format(project.acres),
        "place": project.location_display,
    }
    links = links_for(project, text=text, share_code=share_code)
    return {
        "heading": heading or gettext("Share this project"),
        "links": [link for link in links if link.channel != "link"],
        "copy": next(link for link in links if link.channel == "link"),
    }


# Open Graph wants a territory: the language's usual one for this site's audience.
OG_LOCALES = {"en": "en_US", "es": "es_PE"}


@register.filter
def og_locale(language_code: str) -> str:
    """``og:locale`` for one of LANGUAGES (``es`` -> ``es_PE``)."""
    return OG_LOCALES.get(language_code, language_code.replace("-", "_"))
