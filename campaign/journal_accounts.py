"""The accounting journal's account codes, per ledger kind (Xero / QuickBooks), from the
environment (settings' JOURNAL_ACCOUNTS)."""

from __future__ import annotations

import environ


def journal_accounts(env: environ.Env) -> dict[str, str]:
    """Account code for each kind of ledger row, and the bank, clearing and suspense accounts."""
    return {
        "bank": env.str("JOURNAL_ACCOUNT_BANK", default="090"),
        "clearing": env.str("JOURNAL_ACCOUNT_CLEARING", default="610"),
        "gift": env.str("JOURNAL_ACCOUNT_DONATIONS", default="200"),
        "offline_gift": env.str("JOURNAL_ACCOUNT_DONATIONS", default="200"),
        "offline_void": env.str("JOURNAL_ACCOUNT_DONATIONS", default="200"),
        "refund": env.str("JOURNAL_ACCOUNT_REFUNDS", default="210"),
        "refund_failed": env.str("JOURNAL_ACCOUNT_REFUNDS", default="210"),
        "fee": env.str("JOURNAL_ACCOUNT_FEES", default="404"),
        "dispute_withdrawal": env.str("JOURNAL_ACCOUNT_DISPUTES", default="215"),
        "dispute_reinstatement": env.str("JOURNAL_ACCOUNT_DISPUTES", default="215"),
        "dispute_fee": env.str("JOURNAL_ACCOUNT_FEES", default="404"),
        "match": env.str("JOURNAL_ACCOUNT_MATCHING", default="220"),
        "match_reversal": env.str("JOURNAL_ACCOUNT_MATCHING", default="220"),
        "other": env.str("JOURNAL_ACCOUNT_SUSPENSE", default="999"),
    }
