from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, format_decimal
from django import template
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
def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in (text or "").split("\n\n") if p.strip()]


@register.simple_tag
def srcset(renditions: dict[str, str], original: str, width: int) -> str:
    """A srcset from the stored renditions plus the original at its own width."""
    from django.conf import settings

    parts = [
        f"{settings.MEDIA_URL}{name} {w}w"
        for w, name in sorted(renditions.items(), key=lambda kv: int(kv[0]))
    ]
    if original:
        parts.append(f"{settings.MEDIA_URL}{original} {width or 2000}w")
    return ", ".join(parts)


@register.filter
def rich_text(html: str) -> SafeString:
    """Staff rich text, cleaned again as it is rendered: saving cleans it too, but rows written
    around ``save()`` (bulk updates, raw SQL, old data) must never reach a page unclean."""
    return mark_safe(html_sanitize(html or ""))  # noqa: S308 - sanitised just above
