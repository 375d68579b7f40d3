"""The local test provider: a "Test checkout, no money moves" page for the demo and
development, used when no Stripe key is configured (settings refuse it in production).

It emulates Stripe: Stripe-shaped objects kept in TestProviderObject, Stripe's expand and
list semantics (shared with the tests' recorded-response server), and Stripe-shaped events
signed with STRIPE_WEBHOOK_SECRET posted through our own webhook endpoint, so the demo runs
the same verification, inbox, tasks and lifecycle code as real Stripe. It is the Stripe
adapter with the network replaced: only the transport methods are its own.

The package, by concern: provider (the class and its transport), store (the object store),
checkout (the test checkout page's sessions, payments, refunds, cancelling a monthly gift),
portal (the test customer portal), payouts, delivery (signed events and their redelivery).
"""

from donations.providers.local.delivery import webhook_host
from donations.providers.local.provider import LocalTestProvider
from donations.providers.local.store import UnknownObject

__all__ = ["LocalTestProvider", "UnknownObject", "webhook_host"]
