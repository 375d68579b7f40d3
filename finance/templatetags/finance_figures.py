"""The desk's figures in tables: thousands marks and two decimals (``12,345.60``), by plain
string formatting (no locale lookups per cell)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

register = template.Library()


@register.filter
def money_figure(value: Any) -> str:
    try:
        return f"{Decimal(value):,.2f}"
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
