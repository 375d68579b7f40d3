"""The accounting journals' accounts and defaults (Xero / QuickBooks Online), read from the
environment: for each account a code (Xero: JOURNAL_ACCOUNT_<NAME>) and a name (QuickBooks
Online imports account names: JOURNAL_ACCOUNT_NAME_<NAME>), and for each kind of ledger row
the account it posts to. The tax rate and the QuickBooks date format default by the
charity's country (JOURNAL_COUNTRY, ISO 3166 code)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

# account: (env suffix, default code, default name). The names are QuickBooks' own where it
# has one; every code and name must exist in the charity's chart of accounts.
ACCOUNTS: dict[str, tuple[str, str, str]] = {
    "bank": ("BANK", "090", "Business Bank Account"),
    "clearing": ("CLEARING", "610", "Stripe Clearing"),
    "donations": ("DONATIONS", "200", "Donations"),
    "refunds": ("REFUNDS", "210", "Donation Refunds"),
    "fees": ("FEES", "404", "Bank Fees"),
    "disputes": ("DISPUTES", "215", "Donation Disputes"),
    "matching": ("MATCHING", "220", "Matched Gifts"),
    "pledges": ("PLEDGES", "611", "Match Pledges Receivable"),
    "suspense": ("SUSPENSE", "999", "Suspense"),
}
# Offline gifts (the deposit slip) have their own accounts, by default the bank and the
# donations income above.
OFFLINE_ACCOUNTS = {
    "offline_bank": ("OFFLINE_BANK", "bank"),
    "offline_donations": ("OFFLINE_DONATIONS", "donations"),
}

# Each kind of ledger row (and the payout's own lines) -> the account it posts to.
KIND_ACCOUNTS = {
    "bank": "bank",
    "clearing": "clearing",
    "gift": "donations",
    "refund": "refunds",
    "refund_failed": "refunds",
    "fee": "fees",
    "dispute_withdrawal": "disputes",
    "dispute_reinstatement": "disputes",
    "dispute_fee": "fees",
    "match": "matching",
    "match_reversal": "matching",
    "pledges": "pledges",
    "offline_gift": "offline_donations",
    "offline_void": "offline_donations",
    "offline_bank": "offline_bank",
    "adjustment": "suspense",
    "other": "suspense",
}

# The tax rate Xero's manual journal lines need, as the charity's Xero names it.
TAX_RATES = {
    "US": "Tax Exempt",
    "CA": "Tax Exempt",
    "GB": "No VAT",
    "IE": "No VAT",
    "AU": "BAS Excluded",
    "NZ": "No GST",
}
DATE_FORMATS = ("mm/dd/yyyy", "dd/mm/yyyy")


def journal_settings(env: Any) -> dict[str, Any]:
    """The JOURNAL_* settings, from the environment."""
    codes: dict[str, str] = {}
    names: dict[str, str] = {}
    for account, (suffix, code, name) in ACCOUNTS.items():
        codes[account] = env.str(f"JOURNAL_ACCOUNT_{suffix}", default=code)
        names[account] = env.str(f"JOURNAL_ACCOUNT_NAME_{suffix}", default=name)
    for account, (suffix, like) in OFFLINE_ACCOUNTS.items():
        codes[account] = env.str(f"JOURNAL_ACCOUNT_{suffix}", default=codes[like])
        names[account] = env.str(f"JOURNAL_ACCOUNT_NAME_{suffix}", default=names[like])
    country = env.str("JOURNAL_COUNTRY", default="US").upper()
    date_format = env.str(
        "JOURNAL_QUICKBOOKS_DATE_FORMAT", default="mm/dd/yyyy" if country == "US" else "dd/mm/yyyy"
    ).lower()
    if date_format not in DATE_FORMATS:
        raise ImproperlyConfigured(
            f"JOURNAL_QUICKBOOKS_DATE_FORMAT {date_format!r}: one of {', '.join(DATE_FORMATS)}"
        )
    return {
        "JOURNAL_COUNTRY": country,
        "JOURNAL_ACCOUNTS": {kind: codes[a] for kind, a in KIND_ACCOUNTS.items()},
        "JOURNAL_ACCOUNT_NAMES": {kind: names[a] for kind, a in KIND_ACCOUNTS.items()},
        "JOURNAL_TAX_RATE": env.str(
            "JOURNAL_TAX_RATE", default=TAX_RATES.get(country, "Tax Exempt")
        ),
        "JOURNAL_TRACKING_NAME": env.str("JOURNAL_TRACKING_NAME", default="Project"),
        "JOURNAL_QUICKBOOKS_DATE_FORMAT": date_format,
        "JOURNAL_QUICKBOOKS_MULTICURRENCY": env.bool(
            "JOURNAL_QUICKBOOKS_MULTICURRENCY", default=False
        ),
    }
