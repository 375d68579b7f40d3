"""Donor sign-in without a password: a signed, single-use link sent to the donor's email.

The link carries a random nonce signed with the site's key (Django's signing, with its own
salt and a timestamp); the database keeps only the nonce's SHA-256, with its expiry and
whether it was used, so a copy of the database holds no working link. Using a link is one
conditional UPDATE (unused and unexpired), so a link works once even when two tabs open it
at the same moment.

Asking for a link answers the same whether or not the address has gifts: the check and the
email happen in a task (``sign_in_link_send``), never in the request.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from donations.models import Donation, SignInLink
from donations.services.mail import email_send

logger = logging.getLogger(__name__)

SALT = "donations.sign-in-link"
# Gifts a donor can sign in to see (a started but never completed checkout is not a gift).
VISIBLE_STATUSES = (
    Donation.Status.SUCCEEDED,
    Donation.Status.PARTIALLY_REFUNDED,
    Donation.Status.REFUNDED,
    Donation.Status.DISPUTED,
)


class LinkInvalid(Exception):
    """The link is not ours, has expired, or was used already (the donor asks again)."""


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def email_normalise(email: str) -> str:
    return email.strip().lower()


def has_gifts(email: str) -> bool:
    return Donation.objects.filter(
        donor_email=email_normalise(email), status__in=VISIBLE_STATUSES
    ).exists()


def sign_in_link_create(*, email: str, language: str, lifetime: timedelta | None = None) -> str:
    """A new link for this address, in this language: the absolute URL to put in an email."""
    lifetime = lifetime or timedelta(seconds=settings.DONOR_SIGN_IN_LINK_MAX_AGE)
    nonce = secrets.token_urlsafe(32)
    SignInLink.objects.create(
        email=email_normalise(email),
        digest=_digest(nonce),
        expires_at=timezone.now() + lifetime,
    )
    token = signing.dumps(nonce, salt=SALT, compress=False)
    with translation.override(language):
        path = reverse("donations:my_gifts_enter", kwargs={"token": token})
    return f"{settings.SITE_URL}{path}"


def _nonce(token: str) -> str:
    try:
        # The signature's own age limit is the longest any link lives; each link's row
        # holds its own expiry (a payment-failure email's link lives longer).
        nonce = signing.loads(token, salt=SALT, max_age=settings.DONOR_SIGN_IN_LINK_LONGEST_AGE)
    except signing.BadSignature as exc:  # SignatureExpired is a BadSignature too
        raise LinkInvalid(str(exc)) from exc
    if not isinstance(nonce, str):
        raise LinkInvalid("malformed")
    return nonce


def sign_in_link_check(token: str) -> str:
    """The email a valid, unused, unexpired link was made for; the link stays unused.

    Opening the link (a GET) only asks; signing in is the POST from the page it opens
    (``sign_in_link_use``), so a link planted by someone else cannot sign a browser into
    their account behind its owner's back, and a mail scanner following it uses nothing."""
    email = (
        SignInLink.objects.filter(
            digest=_digest(_nonce(token)), used_at__isnull=True, expires_at__gt=timezone.now()
        )
        .values_list("email", flat=True)
        .first()
    )
    if email is None:
        raise LinkInvalid("used, expired or unknown")
    return email


def sign_in_link_use(token: str) -> str:
    """The email a valid, unused, unexpired link was made for; the link is used up."""
    nonce = _nonce(token)
    now = timezone.now()
    with transaction.atomic():
        link = (
            SignInLink.objects.select_for_update()
            .filter(digest=_digest(nonce), used_at__isnull=True, expires_at__gt=now)
            .first()
        )
        if link is None:
            raise LinkInvalid("used, expired or unknown")
        SignInLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now)
    return link.email


@dataclass(frozen=True)
class LinkRequest:
    email: str
    language: str


def sign_in_link_send(*, email: str, language: str) -> bool:
    """Email a sign-in link if the address has gifts. Returns whether one was sent."""
    email = email_normalise(email)
    if not has_gifts(email):
        logger.info("Sign-in link asked for an address with no gifts; nothing sent")
        return False
    with translation.override(language):
        url = sign_in_link_create(email=email, language=language)
        minutes = settings.DONOR_SIGN_IN_LINK_MAX_AGE // 60
        email_send(
            template="sign_in",
            subject=gettext("Your link to My gifts"),
            to=email,
            context={
                "url": url,
                "minutes": minutes,
                "organisation": settings.ORGANISATION_NAME,
            },
        )
    return True
