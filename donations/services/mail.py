"""One email, text and HTML, from templates/donations/email/<template>.txt and .html,
rendered in the active language (callers wrap it in ``translation.override``)."""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def email_send(
    *,
    template: str,
    subject: str,
    to: str,
    context: dict[str, Any],
    attachments: list[tuple[str, str, str]] | None = None,
) -> None:
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"donations/email/{template}.txt", context),
        to=[to],
    )
    message.attach_alternative(
        render_to_string(f"donations/email/{template}.html", context), "text/html"
    )
    for name, content, mimetype in attachments or []:
        message.attach(name, content, mimetype)
    message.send()
