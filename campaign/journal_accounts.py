"""The accounting journal's account codes, per ledger kind (Xero / QuickBooks): settings'
JOURNAL_ACCOUNTS, from the codes settings read from the environment (JOURNAL_ACCOUNT_*)."""

from __future__ import annotations


def journal_accounts(
    *,
    bank: str,
    clearing: str,
    donations: str,
    refunds: str,
    fees: str,
    disputes: str,
    matching: str,
    suspense: str,
) -> dict[str, str]:
    """Account code for each kind of ledger row, and the bank, clearing and suspense accounts."""
    return {
        "bank": bank,
        "clearing": clearing,
        "gift": donations,
        "offline_gift": donations,
        "offline_void": donations,
        "refund": refunds,
        "refund_failed": refunds,
        "fee": fees,
        "dispute_withdrawal": disputes,
        "dispute_reinstatement": disputes,
        "dispute_fee": fees,
        "match": matching,
        "match_reversal": matching,
        "other": suspense,
    }
