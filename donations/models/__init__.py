"""The money model, one module per concern; every name is importable from here.

gifts: the donation, its transition log, the share-channel proxy; matching: pools and
allocations; ledger: the append-only money ledger; payouts: payouts and their lines; inbox:
the webhook inbox; outbox: work queued from a transaction (receipts, notices); donors:
sign-in links and failed-payment notices; local_provider: the test payment provider's
objects; periods: closed months and the receipt and statement counters. The finance desk's models are in donations/models_finance.py
(loaded by DonationsConfig.import_models); django-pghistory adds its event models
(DonationHistory, ...) to this module.
"""

from donations.models.donors import PaymentFailureNotice, SignInLink
from donations.models.gifts import (
    SUPPORTER_CONDITION,
    SUPPORTER_STATUSES,
    Donation,
    SharedGift,
    TransitionLog,
)
from donations.models.inbox import WebhookEvent
from donations.models.ledger import LedgerEntry
from donations.models.local_provider import TestProviderObject
from donations.models.matching import MatchAllocation, MatchingPool, MatchingPoolQuerySet
from donations.models.outbox import OutboxMessage
from donations.models.payouts import Payout, PayoutLine
from donations.models.periods import DocumentCounter, PeriodClose

__all__ = [
    "SUPPORTER_CONDITION",
    "SUPPORTER_STATUSES",
    "DocumentCounter",
    "Donation",
    "LedgerEntry",
    "MatchAllocation",
    "MatchingPool",
    "MatchingPoolQuerySet",
    "OutboxMessage",
    "PaymentFailureNotice",
    "Payout",
    "PayoutLine",
    "PeriodClose",
    "SharedGift",
    "SignInLink",
    "TestProviderObject",
    "TransitionLog",
    "WebhookEvent",
]
