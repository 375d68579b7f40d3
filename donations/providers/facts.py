"""Plain domain facts about money, as a payment provider reports it.

The provider adapters turn their payloads into these; the lifecycle, ledger and payout
services read only these (never a provider's JSON). Amounts are Money in the currency the
provider gave them in; times are aware datetimes from the provider's clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from djmoney.money import Money


@dataclass(frozen=True)
class BalanceFact:
    """One movement on the provider's balance (Stripe's balance transaction): gross, fee and
    net in the settlement currency, with the real exchange rate from the presented currency."""

    id: str
    amount: Money
    fee: Money
    net: Money
    exchange_rate: Decimal | None = None
    type: str = ""  # charge, refund, adjustment, payout, stripe_fee, ...
    reporting_category: str = ""
    source_id: str = ""  # the charge, refund or dispute that moved the money
    source_type: str = ""  # charge | refund | dispute | ... (when the source was expanded)
    charge_id: str = ""  # the charge the source belongs to (a refund's or dispute's charge)
    donation_id: str = ""  # ours, from the charge's metadata, when the source carries it
    created: datetime | None = None
    available_on: datetime | None = None
    description: str = ""


@dataclass(frozen=True)
class PaymentFact:
    """A charge: what was charged, refunded and settled. ``donation_id`` is ours, from the
    metadata we sent, when the charge carries it."""

    payment_intent_id: str | None = None
    charge_id: str | None = None
    donation_id: str | None = None
    charged: Money | None = None
    refunded: Money | None = None
    paid: bool = False
    paid_at: datetime | None = None
    balance_transaction_id: str | None = None
    balance: BalanceFact | None = None
    # Every refund of the charge, each with its own balance transaction; None when the
    # provider's answer did not list them (then refunds are left as they are).
    refunds: tuple[RefundFact, ...] | None = None

    @property
    def settled(self) -> Money | None:
        return self.balance.amount if self.balance else None

    @property
    def fee(self) -> Money | None:
        return self.balance.fee if self.balance else None

    @property
    def net(self) -> Money | None:
        return self.balance.net if self.balance else None

    @property
    def exchange_rate(self) -> Decimal | None:
        return self.balance.exchange_rate if self.balance else None


@dataclass(frozen=True)
class SessionFact:
    """A hosted checkout (Stripe Checkout Session) as the provider has it now."""

    id: str
    donation_id: str | None
    mode: str  # payment | subscription
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    amount_total: Money | None = None
    customer_id: str | None = None
    subscription_id: str | None = None
    invoice_id: str | None = None
    payment_intent_id: str | None = None
    payment_intent_status: str | None = None
    payment: PaymentFact | None = None  # the latest charge, when there is one


@dataclass(frozen=True)
class DisputeFact:
    id: str
    charge_id: str
    status: str
    payment: PaymentFact
    amount: Money | None = None
    balance_lines: tuple[BalanceFact, ...] = ()


@dataclass(frozen=True)
class InvoiceFact:
    """One monthly instalment's invoice. ``plan_donation_id`` is the plan's first gift, from
    the metadata we put on the subscription."""

    id: str
    plan_donation_id: str | None
    subscription_id: str | None
    customer_id: str | None
    billing_reason: str
    status: str
    amount_paid: Money
    attempted: bool = False  # Stripe tried to collect it (a failed one is retried)
    payment: PaymentFact | None = None
    attempt_count: int = 0  # collection attempts so far (one failure email per attempt)


@dataclass(frozen=True)
class SubscriptionFact:
    id: str
    donation_id: str | None
    status: str


@dataclass(frozen=True)
class RefundFact:
    id: str
    charge_id: str
    amount: Money
    status: str  # pending | requires_action | succeeded | failed | canceled
    balance: BalanceFact | None = None
    failure_balance: BalanceFact | None = None
    created: datetime | None = None


@dataclass(frozen=True)
class PayoutFact:
    id: str
    amount: Money
    status: str  # pending | in_transit | paid | failed | canceled
    automatic: bool
    method: str  # standard | instant
    arrival_date: datetime | None
    reconciliation_status: str  # not_applicable | in_progress | completed
    failure_code: str = ""
    failure_message: str = ""
    balance_transaction_id: str = ""
    created: datetime | None = None


@dataclass(frozen=True)
class CheckoutRequest:
    """What a gift asks the provider's hosted checkout for (the provider builds its own
    request from it)."""

    donation_id: str
    amount: Money  # what the donor pays, fee cover included
    monthly: bool
    description: str
    donor_email: str
    metadata: dict[str, str]
    success_url: str
    cancel_url: str
    locale: str = "auto"  # the language Checkout opens in ("en", "es"; "auto" = browser's)


@dataclass(frozen=True)
class CheckoutStarted:
    session_id: str
    url: str


@dataclass(frozen=True)
class VerifiedEvent:
    """A webhook whose signature verified: its envelope and the payload as received."""

    id: str
    type: str
    api_version: str
    livemode: bool
    payload: dict[str, object] = field(repr=False)


@dataclass(frozen=True)
class EventRef:
    id: str
    type: str
