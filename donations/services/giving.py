"""Starting a gift: the pending donation and its Stripe Checkout Session."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
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
    idempotency_key: UUID | None = None  # this press of Donate (the form's hidden key)


def donation_label(title: str) -> str:
    """ "Donation to <project>" in the active language, as Stripe shows and stores it."""
    return (translation.gettext("Donation to %(project)s") % {"project": title})[:250]


class CheckoutUnavailable(Exception):
    """Stripe could not create the Checkout Session; nothing was charged."""


class KeyReused(Exception):
    """The form's idempotency key already started a different gift (another amount, donor,
    project or frequency): nothing is started, the donor is asked to reload the form."""


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


def _same_gift(d: Donation, gift: GiftRequest) -> bool:
    return (
        d.project_id == gift.project.pk
        and d.donor_email == gift.donor_email
        and d.amount == gift.amount
        and d.frequency == gift.frequency
        and d.cover_fee == gift.cover_fee
    )


def donation_by_key(gift: GiftRequest) -> Donation | None:
    """The gift this press of Donate already started (its idempotency key), if any;
    KeyReused if the key started a different one."""
    if gift.idempotency_key is None:
        return None
    d = (
        Donation.objects.select_related("project")
        .filter(idempotency_key=gift.idempotency_key)
        .first()
    )
    if d is not None and not _same_gift(d, gift):
        raise KeyReused(str(gift.idempotency_key))
    return d


def donation_answer(d: Donation, *, base_url: str) -> str:
    """Where a repeated post of a started gift goes: a gift still pending to its Checkout
    Session (created again with the same Stripe idempotency key, the donation's id, so
    Stripe answers with the one session, also when the first post died before it was
    stored); any other gift to its thank-you page. A provider error leaves the gift as it
    is (the first post may still be creating the session): CheckoutUnavailable."""
    thanks = base_url + reverse("donations:thanks", kwargs={"donation_id": d.pk})
    if d.status != Donation.Status.PENDING:
        return thanks
    try:
        started = provider().checkout_session_create(
            request=_checkout_request(d, base_url=base_url), idempotency_key=str(d.pk)
        )
    except ProviderError as exc:
        raise CheckoutUnavailable(str(exc)) from exc
    if d.checkout_session_id != started.session_id:
        Donation.objects.filter(pk=d.pk, status=Donation.Status.PENDING).update(
            checkout_session_id=started.session_id
        )
    return started.url


def donation_start(*, gift: GiftRequest, base_url: str) -> tuple[Donation, str]:
    """Create the pending donation and its Checkout Session; return it and the URL to send
    the donor to. If Stripe fails, the donation is marked failed (its idempotency key
    released, so pressing Donate again starts afresh) and CheckoutUnavailable raised: the
    donor is told, and finance sees the attempt. A post whose key another post (in flight
    at the same time) has just used gets that one's answer (donation_answer)."""
    fee = fee_to_cover(gift.amount) if gift.cover_fee else Money(0, gift.amount.currency)
    try:
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
                idempotency_key=gift.idempotency_key,
            )
    except IntegrityError:
        # The unique key: the other post committed first (PostgreSQL made this insert wait).
        winner = donation_by_key(gift)
        if winner is None:
            raise
        return winner, donation_answer(winner, base_url=base_url)
    try:
        started = provider().checkout_session_create(
            request=_checkout_request(donation, base_url=base_url),
            idempotency_key=str(donation.pk),
        )
    except ProviderError as exc:
        donation_fail(donation_id=donation.pk, reason=f"checkout session not created: {exc}")
        Donation.objects.filter(pk=donation.pk).update(idempotency_key=None)
        raise CheckoutUnavailable(str(exc)) from exc
    Donation.objects.filter(pk=donation.pk).update(checkout_session_id=started.session_id)
    donation.checkout_session_id = started.session_id
    return donation, started.url
