"""Money and numbers as a reader of the site's language writes them (CLDR, through babel):
$303,600 / 303.600 US$, 285,288 / 285.288. Plain functions: pages, emails, forms, the SEO
text and the template filters (projects/templatetags/campaign_tags.py) all call these."""

from __future__ import annotations

import functools
from decimal import Decimal

from babel import Locale
from babel.numbers import (
    NumberPattern,
    get_currency_symbol,
    parse_pattern,
)
from django.conf import settings
from django.utils import translation
from djmoney.money import Money


def babel_locale(language: str | None = None) -> str:
    """The CLDR locale for a language of the site (settings.BABEL_LOCALES), e.g. es -> es."""
    code = (language or translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return str(settings.BABEL_LOCALES.get(code, settings.BABEL_LOCALES["en"]))


@functools.lru_cache(maxsize=32)
def _currency_patterns(locale: str) -> tuple[Locale, NumberPattern, NumberPattern]:
    """The locale, its standard currency pattern, and that pattern without its decimals
    ("¤#,##0.00" -> "¤#,##0", "#,##0.00 ¤" -> "#,##0 ¤": whole amounts are written without
    ",00"). Parsed once: format_currency would parse the locale and pattern on every call,
    and a page or an admin list formats hundreds of amounts."""
    parsed = Locale.parse(locale)
    standard = parsed.currency_formats["standard"]
    whole = parse_pattern(standard.pattern.split(";")[0].replace(".00", ""))
    return parsed, standard, whole


def money_format(value: Money | None, language: str | None = None) -> str:
    """$303,600 / 303.600 US$ for whole amounts, $1.17 / 1,17 US$ otherwise: the active
    language's CLDR conventions (grouping, decimal mark, symbol and its place). "" for None."""
    if value is None:
        return ""
    locale, standard, whole = _currency_patterns(babel_locale(language))
    amount = Decimal(value.amount)
    currency = str(value.currency)
    # As babel.numbers.format_currency applies them, with the patterns parsed once.
    if amount == amount.to_integral_value():
        return str(whole.apply(amount, locale, currency=currency, currency_digits=False))
    return str(standard.apply(amount, locale, currency=currency))


def amount_format(amount: Decimal | int | None, currency: str) -> str:
    """An amount in a currency, written as money_format writes it; "" for None."""
    if amount is None:
        return ""
    return money_format(Money(Decimal(amount), str(currency)))


def number_format(value: Decimal | int | None) -> str:
    """285,288 / 285.288 (whole) or 47.5 / 47,5 (fractional), grouped as the language does;
    "" for None."""
    if value is None:
        return ""
    d = Decimal(value)
    locale, whole, fractional = _number_patterns(babel_locale())
    if d == d.to_integral_value():
        return str(whole.apply(d, locale))
    return str(fractional.apply(d.normalize(), locale))


@functools.lru_cache(maxsize=32)
def _number_patterns(locale: str) -> tuple[Locale, NumberPattern, NumberPattern]:
    """The locale with number_format's two patterns, parsed once (as format_decimal would
    parse both on every call)."""
    return Locale.parse(locale), parse_pattern("#,##0"), parse_pattern("#,##0.##")


def currency_symbol(code: str) -> str:
    """$ for USD, € for EUR, ¥ for JPY in English; US$, €, JPY in Spanish (CLDR)."""
    return str(get_currency_symbol(str(code), locale=babel_locale()))
