"""Payment providers: the interface, its plain facts, Stripe and the local test provider.

``provider()`` is the one way the rest of the code reaches a provider; which one comes from
``settings.PAYMENT_PROVIDER`` ("stripe", or "test" for the no-keys demo).
"""

from __future__ import annotations

from django.conf import settings

from donations.providers.base import (
    MalformedEvent,
    PaymentProvider,
    ProviderError,
    SignatureError,
)

__all__ = [
    "MalformedEvent",
    "PaymentProvider",
    "ProviderError",
    "SignatureError",
    "is_test_provider",
    "provider",
]

_instances: dict[str, PaymentProvider] = {}


def provider() -> PaymentProvider:
    name = str(settings.PAYMENT_PROVIDER)
    if name not in _instances:
        if name == "test":
            from donations.providers.local import LocalTestProvider

            _instances[name] = LocalTestProvider()
        elif name == "stripe":
            from donations.providers.stripe import StripeProvider

            _instances[name] = StripeProvider()
        else:
            raise ValueError(f"Unknown PAYMENT_PROVIDER {name!r}")
    return _instances[name]


def is_test_provider() -> bool:
    return bool(settings.PAYMENT_PROVIDER == "test")
