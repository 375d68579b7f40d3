"""A local HTTP server that answers like Stripe's API with recorded JSON responses.

The real stripe-python client talks to it over HTTP (``STRIPE_API_BASE``), so everything
from request encoding to error mapping and retries runs for real; so can a Celery worker in
another process. Objects are built from the recordings in ``tests/recordings`` (written from
Stripe's API reference for the pinned API version) and stored by id; GET requests return the
stored object with ``expand[]`` applied, as Stripe does.

The package: server (the HTTP server and object store), rules (what Stripe accepts),
scenarios (FakeStripe: the server plus the scenario builders tests use), shapes (recorded
objects, ids, signed events).
"""

from tests.stripe_fake.rules import RECORDINGS, refusal
from tests.stripe_fake.scenarios import FakeStripe
from tests.stripe_fake.server import decode_form
from tests.stripe_fake.shapes import new_id, recording, signed_event

__all__ = [
    "RECORDINGS",
    "FakeStripe",
    "decode_form",
    "new_id",
    "recording",
    "refusal",
    "signed_event",
]
