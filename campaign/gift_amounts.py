"""Per-currency gift amounts: the smallest and largest gift, and the donate form's preset
buttons (settings' DONATION_LIMITS and DONATION_PRESETS)."""

from decimal import Decimal

# Per-currency minimum and maximum gift, in major units.
LIMITS = {
    "USD": (Decimal("1"), Decimal("100000")),
    "EUR": (Decimal("1"), Decimal("100000")),
    "GBP": (Decimal("1"), Decimal("100000")),
    "JPY": (Decimal("100"), Decimal("15000000")),
}
# Per-currency preset buttons on the donate form, in major units (each within LIMITS).
PRESETS = {
    "USD": [Decimal("25"), Decimal("50"), Decimal("100"), Decimal("250")],
    "EUR": [Decimal("25"), Decimal("50"), Decimal("100"), Decimal("250")],
    "GBP": [Decimal("25"), Decimal("50"), Decimal("100"), Decimal("250")],
    "JPY": [Decimal("3000"), Decimal("5000"), Decimal("10000"), Decimal("30000")],
}
