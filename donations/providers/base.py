"""The payment-provider interface. Two implementations, chosen once from settings
(``donations.providers.provider()``): Stripe, and the local test provider of the demo."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import datetime

from djmoney.money import Money

from donations.providers.facts import (
    BalanceFact,
    CheckoutRequest,
    CheckoutStarted,
    DisputeFact,
    EventRef,
    InvoiceFact,
    PaymentFact,
    PayoutFact,
    RefundFact,
    SessionFact,
    SubscriptionFact,
    VerifiedEvent,
)

# What an event is about, re-fetched from the provider (payloads can be stale).
Fact = SessionFact | PaymentFact | DisputeFact | InvoiceFact | SubscriptionFact | PayoutFact


class ProviderError(Exception):
    """The provider could not be reached or refused the request."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class SignatureError(Exception):
    """A webhook whose signature or timestamp does not verify."""


class MalformedEvent(Exception):
    """A signed webhook body that is not an event we can store or process (an id too long
    for the inbox, a NUL the database cannot hold, a handled type with no object...).
    At the endpoint: 400, nothing stored. For a stored event: marked failed with this."""


class PaymentProvider(ABC):
    name: str
    #: Event types the webhook endpoint must be subscribed to (others are stored, ignored).
    handled_event_types: tuple[str, ...]

    @abstractmethod
    def checkout_session_create(
        self, *, request: CheckoutRequest, idempotency_key: str
    ) -> CheckoutStarted:
        """A hosted checkout for one gift; the same key never creates a second one."""

    @abstractmethod
    def checkout_session_get(self, session_id: str) -> SessionFact: ...

    @abstractmethod
    def payment_get(self, charge_id: str) -> PaymentFact: ...

    @abstractmethod
    def event_fact(self, event: VerifiedEvent) -> Fact | None:
        """The authoritative current state of what the event is about (re-fetched), or None
        for an event type we do not handle."""

    @abstractmethod
    def payout_get(self, payout_id: str) -> PayoutFact: ...

    @abstractmethod
    def payouts_since(self, since: datetime) -> Iterator[PayoutFact]:
        """Payouts created since a moment, newest first, every page."""

    @abstractmethod
    def payout_lines(self, payout_id: str) -> Iterator[BalanceFact]:
        """Every balance movement a payout paid out, every page (not the payout itself)."""

    @abstractmethod
    def refund_create(
        self, *, charge_id: str, amount: Money, idempotency_key: str, metadata: dict[str, str]
    ) -> RefundFact: ...

    @abstractmethod
    def subscription_cancel(
        self, *, subscription_id: str, idempotency_key: str
    ) -> SubscriptionFact:
        """End a monthly plan now (no further instalments); its deletion event follows."""

    @abstractmethod
    def events_failed_delivery(self) -> Iterator[EventRef]:
        """Events the provider could not deliver to any endpoint, every page."""

    @abstractmethod
    def portal_session_create(self, *, customer_id: str, return_url: str, locale: str) -> str:
        """The URL of a customer-portal session for a monthly donor: change the card or the
        amount, or cancel; the changes come back as subscription and invoice webhooks."""

    @abstractmethod
    def webhook_verify(self, payload: bytes, header: str | None) -> VerifiedEvent:
        """Raise SignatureError unless the body is a signed, fresh event."""
