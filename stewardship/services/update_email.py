"""One update email: text and HTML in the donor's language, with RFC 8058 one-click
unsubscribe headers (List-Unsubscribe with the signed URL, List-Unsubscribe-Post) and a
visible link; and "send a test to me", exactly one email to the staff member."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal
from html import unescape
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.translation import gettext

from projects.seo import absolute_url, media_absolute_url
from stewardship import selectors
from stewardship.models import Update
from stewardship.services.consent import unsubscribe_url
from stewardship.services.progress import legal_status_line, personal_line, progress_shown


def _photo_url(update: Update) -> str:
    jpeg = (update.photo_renditions or {}).get("jpeg") or {}
    if isinstance(jpeg, dict) and jpeg:
        return media_absolute_url(str(jpeg[min(jpeg, key=int)]))
    return media_absolute_url(str(update.photo.name)) if update.photo else ""


def body_text(html: str) -> str:
    """The rich text as plain text, a blank line between paragraphs."""
    spaced = re.sub(r"</(p|h3|h4|li|blockquote)>|<br\s*/?>", "\n\n", html)
    return re.sub(r"\n{3,}", "\n\n", unescape(strip_tags(spaced))).strip()


def update_context(update: Update, *, email: str, personal: str, test: bool) -> dict[str, Any]:
    """What the email shows, in the active language."""
    return {
        "update": update,
        "project": update.project,
        "body_text": body_text(update.body),
        "language": translation.get_language(),
        "progress": progress_shown(update.progress),
        "legal_status": legal_status_line(update.legal_status),
        "personal": personal,
        "photo_url": _photo_url(update),
        "update_url": absolute_url(update.get_absolute_url()),
        "unsubscribe_url": unsubscribe_url(
            email=email, project_id=update.project_id, language=translation.get_language()
        ),
        "organisation": settings.ORGANISATION_NAME,
        "test": test,
    }


def update_message(
    update: Update,
    *,
    email: str,
    language: str,
    message_key: str,
    test: bool = False,
    giving: tuple[int, Decimal] | None = None,
    connection: BaseEmailBackend | None = None,
) -> EmailMultiAlternatives:
    """The email of ``update`` to ``email`` in ``language``. ``message_key`` makes the
    Message-ID: the same delivery always has the same one, so if a crash between the mail
    server's answer and our commit makes a resend, the copy is recognisably the same message
    (and mailbox providers collapse it). ``giving``: the donor's gift count and sum, when
    the caller has read them already."""
    with translation.override(language):
        # The donor's gifts to the project (the fan-out reads them for a whole chunk at once).
        gifts, total = giving or selectors.donor_giving(update.project, email)
        personal = personal_line(update.project, gifts=gifts, total=total)
        context = update_context(update, email=email, personal=personal, test=test)
        subject = f"{update.project.title}: {update.title}"
        if test:
            subject = gettext("[Test] %(subject)s") % {"subject": subject}
        host = urlsplit(settings.SITE_URL).hostname or "localhost"
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("stewardship/email/update.txt", context),
            to=[email],
            connection=connection,
            headers={
                "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Message-ID": f"<update-{update.pk}-{message_key}@{host}>",
                "Auto-Submitted": "auto-generated",
                "Precedence": "bulk",
            },
        )
        message.attach_alternative(
            render_to_string("stewardship/email/update.html", context), "text/html"
        )
    return message


def test_send(*, update: Update, to: str) -> int:
    """ "Send a test to me": one email, in the staff member's language, marked
    as a test, to the signed-in staff member. Returns how many were sent (1)."""
    message = update_message(
        update,
        email=to,
        language=translation.get_language() or "en",
        message_key=f"test-{secrets.token_hex(6)}",
        test=True,
    )
    return message.send()
