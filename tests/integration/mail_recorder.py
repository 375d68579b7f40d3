"""An email backend for the integration tests that plays the mail server: each message it
accepts is a row of ``integration_sent_mail``, written on the worker's own database
connection, so inside the delivery's transaction.

That makes "accepted by the mail server" and "recorded as sent" one atomic step, which a real
SMTP relay is not. The test that uses it checks what our code controls: that no delivery is
claimed twice and that a killed worker's work is carried on from where it stopped. (The
remaining window, a relay that accepted a message just before the worker died, is the one
stewardship/services/fanout.py describes: the resend carries the same Message-ID.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection

TABLE = "integration_sent_mail"
CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} "
    "(id bigserial PRIMARY KEY, address text NOT NULL, message_id text NOT NULL)"
)


class RecordingBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[Any]) -> int:
        with connection.cursor() as cursor:
            for message in email_messages:
                cursor.execute(
                    f"INSERT INTO {TABLE} (address, message_id) VALUES (%s, %s)",  # noqa: S608
                    [message.to[0], message.extra_headers.get("Message-ID", "")],
                )
        return len(email_messages)
