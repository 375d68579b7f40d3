"""Starting a gift: the pending donation and its Stripe Checkout Session."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from djmoney.money import Money

from donations.models import Donation
from donations.money import round_up
from donations.providers import ProviderError, provider
from donations.providers.facts import CheckoutRequest
from donations.services.lifecycle import donation_fail
from projects.models import Project
from projects.sharing import REFERRAL_PARAM, Referral

logger = logging.getLogger(__name__)


def fee_fixed(currency: str) -> Decimal:
    """Stripe's fixed fee per charge in a currency (DONATION_FEE_FIXED), in major units."""
    return Decimal(settings.DONATION_FEE_FIXED.get(currency, Decimal(0)))


def fee_to_cover(amount: Money) -> Money:
    """The fee that, added to the gift, leaves the whole gift after Stripe's percentage and
    fixed fee: (gift + fixed) / (1 - pct) - gift, rounded up to the currency's unit."""
    currency = str(amount.currency)
    pct = settings.DONATION_FEE_PERCENT / Decimal(100)
    fixed = fee_fixed(currency)
    gross = (Decimal(amount.amount) + fixed) / (Decimal(1) - pct)
    return Money(round_up(gross - Decimal(amount.amount), currency), currency)


@dataclass(frozen=True)
class GiftRequest:
    project: Project
    amount: Money
    frequency: str
    donor_name: str
    donor_email: str
    anonymous: bool = False
    show_amount: bool = True
    message: str = ""
    tribute_type: str = ""
    tribute_name: str = ""
    tribute_notify_email: str = ""
    cover_fee: bool = False
    referral: Referral | None = None  # the shared link the donor came through
    language: str = "en"


def donation_label(title: str) -> str:
    """ "Donation to <project>" in the active language, as Stripe shows and stores it."""
    return (translation.gettext("Donation to %(project)s") % {"project": title})[:250]


class CheckoutUnavailable(Exception):
    """Stripe could not create the Checkout Session; nothing was charged."""


# Stripe Checkout's own locales for ours (https://docs.stripe.com/api/checkout/sessions).
CHECKOUT_LOCALES = {"en": "en", "es": "es"}


def _checkout_request(d: Donation, *, base_url: str) -> CheckoutRequest:
    """Checkout in the gift's language: its locale, description and return URLs."""
    project = d.project
    with translation.override(d.language):
        return CheckoutRequest(
            donation_id=str(d.pk),
            amount=d.total_charge,
            monthly=d.frequency == Donation.Frequency.MONTHLY,
            description=donation_label(project.title),
            donor_email=d.donor_email,
            metadata={"donation_id": str(d.pk), "project": project.slug},
            success_url=base_url + reverse("donations:thanks", kwargs={"donation_id": d.pk}),
            # Back on the form after cancelling, a gift from a shared link still carries its code.
            cancel_url=base_url
            + project.get_absolute_url()
            + f"?cancelled={d.pk}"
            + (f"&{REFERRAL_PARAM}={d.referral_code}" if d.referral_code else "")
            + "#donate",
            locale=CHECKOUT_LOCALES.get(d.language, "auto"),
        )


def donation_start(*, gift: GiftRequest, base_url: str) -> tuple[Donation, str]:
    """Create the pending donation and its Checkout Session; return it and the URL to send
    the donor to. If Stripe fails, the donation is marked failed and CheckoutUnavailable
    raised: the donor is told, and finance sees the attempt."""
    fee = fee_to_cover(gift.amount) if gift.cover_fee else Money(0, gift.amount.currency)
    with transaction.atomic():
        donation = Donation.objects.create(
            project=gift.project,
            amount=gift.amount,
            fee_covered=fee,
            cover_fee=gift.cover_fee,
            frequency=gift.frequency,
            donor_name=gift.donor_name,
            donor_email=gift.donor_email,
            anonymous=gift.anonymous,
            show_amount=gift.show_amount,
            message=gift.message,
            tribute_type=gift.tribute_type,
            tribute_name=gift.tribute_name,
            tribute_notify_email=gift.tribute_notify_email,
            referral_channel=gift.referral.channel if gift.referral else "",
            referral_code=gift.referral.code if gift.referral else "",
            language=gift.language,
        )
    try:
        started = provider().checkout_session_create(
            request=_checkout_request(donation, base_url=base_url),
            idempotency_key=str(donation.pk),
        )
    except ProviderError as exc:
        donation_fail(donation_id=donation.pk, reason=f"checkout session not created: {exc}")
        raise CheckoutUnavailable(str(exc)) from exc
    Donation.objects.filter(pk=donation.pk).update(checkout_session_id=started.session_id)
    donation.checkout_session_id = started.session_id
    return donation, started.url
