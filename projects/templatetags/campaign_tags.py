from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import format_currency, format_decimal, get_currency_symbol
from django import template
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe
from djmoney.money import Money

from projects.services.sanitize import html_sanitize

register = template.Library()


@register.filter
def money(value: Money | None) -> str:
    """$303,600 for whole amounts, $1.17 otherwise; the currency's own symbol."""
    if value is None:
        return ""
    amount = Decimal(value.amount)
    currency = str(value.currency)
    if amount == amount.to_integral_value():
        return format_currency(
            amount, currency, format="¤#,##0", locale="en_US", currency_digits=False
        )
    return format_currency(amount, currency, locale="en_US")


@register.filter
def number(value: Decimal | int | None) -> str:
    """285,288 (whole) or 47.5 (fractional), grouped."""
    if value is None:
        return ""
    d = Decimal(value)
    if d == d.to_integral_value():
        return format_decimal(d, format="#,##0", locale="en_US")
    return format_decimal(d.normalize(), format="#,##0.##", locale="en_US")


@register.filter
def currency_symbol(code: str) -> str:
    """$ for USD, € for EUR, ¥ for JPY (en_US)."""
    return str(get_currency_symbol(str(code), locale="en_US"))


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
    return f"Photo courtesy of {text.rstrip('.')}."


@register.filter
def lead_is_teaser(lead: str, body: str) -> bool:
    """Whether a section's lead is the start of its body (a teaser, often ending "..."): the
    page then hides the lead once "Read more" is open, so the sentence is not read twice."""
    stem = re.sub(r"(\.\.\.|…|\.)\s*$", "", (lead or "").strip())
    if not stem:
        return False
    text = " ".join(strip_tags(html_sanitize(body or "")).split())
    return text.startswith(" ".join(stem.split()))


@register.simple_tag
def srcset(renditions: dict[str, str], original: str, width: int) -> str:
    """A srcset from the stored renditions plus the original at its own width (the hero's
    width is unknown until it is stored: then the renditions alone, never a guessed "2000w")."""
    from django.conf import settings

    parts = [
        f"{settings.MEDIA_URL}{name} {w}w"
        for w, name in sorted(renditions.items(), key=lambda kv: int(kv[0]))
    ]
    if original and width:  # its true width, or left out rather than guessed
        parts.append(f"{settings.MEDIA_URL}{original} {width}w")
    return ", ".join(parts)


@register.filter
def rich_text(html: str) -> SafeString:
    """Staff rich text, cleaned again as it is rendered: saving cleans it too, but rows written
    around ``save()`` (bulk updates, raw SQL, old data) must never reach a page unclean."""
    return mark_safe(html_sanitize(html or ""))  # noqa: S308 - sanitised just above
