"""The one place that converts between Money and Stripe's integer minor units."""

from __future__ import annotations

from decimal import ROUND_UP, Decimal

from djmoney.money import Money

# https://docs.stripe.com/currencies#zero-decimal and #three-decimal
ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())


def currency_exponent(currency: str) -> int:
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def to_minor(money: Money) -> int:
    """Money -> Stripe integer amount; refuses amounts finer than the currency allows."""
    exponent = currency_exponent(str(money.currency))
    scaled = Decimal(money.amount).scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{money} has more decimals than {money.currency} allows")
    return int(scaled)


def from_minor(amount: int, currency: str) -> Money:
    exponent = currency_exponent(currency)
    return Money(Decimal(int(amount)).scaleb(-exponent), currency.upper())


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-currency_exponent(currency))


def round_up(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(quantum(currency), rounding=ROUND_UP)
