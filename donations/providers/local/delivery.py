"""The local provider's events: Stripe-shaped, signed with STRIPE_WEBHOOK_SECRET, posted
in-process through our own webhook endpoint, and redelivered with Stripe's backoff while the
endpoint refuses them."""

from __future__ import annotations

import io
import json
import logging
import sys
import time
from collections.abc import Iterator
from functools import cache
from typing import Any

from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIRequest
from django.urls import reverse
from django.utils import translation

from donations.models import TestProviderObject
from donations.providers.local.store import _new_id, _put
from donations.providers.stripe import API_VERSION, StripeProvider, webhook_sign

Json = dict[str, Any]

logger = logging.getLogger(__name__)

# Seconds before each new attempt at an event the endpoint refused (then hourly), and when
# to give up: Stripe retries for up to three days with an exponential backoff.
REDELIVERY_BACKOFF = (10, 30, 60, 300, 1800, 3600)
REDELIVERY_GIVE_UP_SECONDS = 3 * 24 * 3600
DELIVERED = range(200, 300)  # the HTTP statuses that count as a delivered webhook


@cache
def _handler() -> BaseHandler:
    handler = BaseHandler()
    handler.load_middleware()
    return handler


def _post_webhook(body: str, host: str) -> int:
    """POST a signed event to our own webhook endpoint, in-process, through the middleware
    and view as a real delivery would (without Django's request signals, which would close
    the database connection of the caller's transaction)."""
    data = body.encode()
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("donations:stripe_webhook")  # the unprefixed URL Stripe is given
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(data)),
        "HTTP_HOST": host,
        "HTTP_STRIPE_SIGNATURE": webhook_sign(body),
        "SERVER_NAME": host.split(":", maxsplit=1)[0],
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(data),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    response = _handler().get_response(WSGIRequest(environ))
    return int(response.status_code)


def webhook_host() -> str:
    hosts = [h for h in settings.ALLOWED_HOSTS if h != "*" and not h.startswith(".")]
    return hosts[0] if hosts else "localhost"


class LocalEventDelivery(StripeProvider):
    """Delivering the events the local provider emits; the other parts of the provider
    call ``event_deliver``."""

    def event_deliver(self, *, event_type: str, obj: Json, host: str) -> int:
        """Sign a Stripe-shaped event and post it to our own webhook endpoint."""
        event = {
            "id": _new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "livemode": False,
            "type": event_type,
            "data": {"object": {k: v for k, v in obj.items() if not k.startswith("_")}},
        }
        row = _put({**event, "_delivery": {"pending": True, "attempts": 0, "host": host}})
        # The delivery runs through the middleware, which activates its own request's
        # language: restore the caller's afterwards.
        with translation.override(translation.get_language()):
            status = self._attempt(row)
            self.events_redeliver()
        return status

    # --- redelivery, as Stripe does it ----------------------------------------------------
    def _attempt(self, row: Json) -> int:
        """POST one stored event; remember the outcome. Never raises for a refusal: like
        Stripe, the provider keeps the event and tries again later, and the donor's
        checkout goes on (its thank-you page confirms the gift from the session)."""
        delivery = row["_delivery"]
        body = json.dumps({k: v for k, v in row.items() if k != "_delivery"})
        try:
            status = _post_webhook(body, str(delivery.get("host") or webhook_host()))
        except Exception as exc:  # noqa: BLE001 - anything the endpoint raised is a refusal
            logger.warning("Test provider: posting %s raised %s", row["id"], exc)
            status = 0
        delivery["attempts"] = int(delivery.get("attempts") or 0) + 1
        if status in DELIVERED:
            delivery.update(pending=False, delivered_at=time.time())
        else:
            delay = REDELIVERY_BACKOFF[min(delivery["attempts"], len(REDELIVERY_BACKOFF)) - 1]
            delivery["next_at"] = time.time() + delay
            if time.time() - row["created"] > REDELIVERY_GIVE_UP_SECONDS:
                delivery["pending"] = False  # listed by events_failed_delivery, like Stripe's
            logger.warning(
                "Test provider: the webhook answered %s to %s (%s); trying again in %s s",
                status or "an error",
                row["id"],
                row["type"],
                delay,
            )
        _put(row)
        return status

    def _undelivered(self) -> Iterator[Json]:
        rows = TestProviderObject.objects.filter(
            data__object="event", data___delivery__delivered_at__isnull=True
        ).order_by("data__created")
        for row in rows:
            yield dict(row.data)

    def events_redeliver(self) -> int:
        """Send again every stored event whose retry is due; the number now delivered.
        Runs after each new delivery and every minute from beat (test_provider_redeliver)."""
        delivered = 0
        now = time.time()
        for row in self._undelivered():
            delivery = row["_delivery"]
            if delivery.get("pending") and float(delivery.get("next_at") or 0) <= now:
                delivered += self._attempt(row) in DELIVERED
        return delivered
