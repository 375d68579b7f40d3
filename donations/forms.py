from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from uuid import UUID

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from donations.models import Donation
from donations.money import currency_exponent
from projects.formatting import number_format
from projects.sharing import Referral, referral_parse

NUMBER = re.compile(r"^\d{1,9}(\.\d{1,4})?$")
# The donate form's idempotency key as browsers write a UUID (crypto.randomUUID).
IDEMPOTENCY_KEY = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def currency_choices() -> list[tuple[str, str]]:
    return [(c, c) for c in settings.DONATION_CURRENCIES]


def offered_currencies(project_currency: str) -> list[str]:
    """The currencies a gift to a project in `project_currency` can be made in: only those
    it can be counted in (lifecycle.contribution counts a gift charged in the project's
    currency, or settled in it). The project's own currency always; the other allowed
    currencies only when the project is in the currency the Stripe account settles in, so
    that Stripe's balance transaction converts them into the project's currency."""
    offered = [project_currency]
    if project_currency == settings.DONATION_SETTLEMENT_CURRENCY:
        offered += [c for c in settings.DONATION_CURRENCIES if c != project_currency]
    return offered


def currency_limits(currency: str) -> tuple[Decimal, Decimal]:
    """The smallest and largest online gift in a currency, in major units."""
    low, high = settings.DONATION_LIMITS.get(currency, (Decimal(1), Decimal(100000)))
    return Decimal(low), Decimal(high)


def currency_presets(currency: str) -> list[Decimal]:
    """The suggested amounts for a currency (DONATION_PRESETS), leaving out any a gift in
    that currency could not be (outside its limits or finer than its smallest unit)."""
    low, high = currency_limits(currency)
    unit = Decimal(1).scaleb(-currency_exponent(currency))
    return [
        Decimal(a)
        for a in settings.DONATION_PRESETS.get(currency, [])
        if low <= Decimal(a) <= high and Decimal(a) == Decimal(a).quantize(unit)
    ]


def preset_value(amount: Decimal) -> str:
    """A preset as the form posts it: "50", "3000" (never "3E+3" or "50.00")."""
    return f"{Decimal(amount).normalize():f}"


def amount_normalise(raw: str, language: str | None) -> str:
    """An amount as the donor typed it, in the form NUMBER reads ("1234.5").

    English writes 1,000.50; Spanish 1.000,50 (or 1000,50): the grouping marks are dropped
    and the decimal comma becomes a point. Anything else is left for NUMBER to refuse."""
    if (language or "en").split("-")[0] == "es":
        if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?", raw):
            raw = raw.replace(".", "")
        if re.fullmatch(r"\d+,\d+", raw):
            raw = raw.replace(",", ".")
        return raw
    return raw.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", raw) else raw


def amount_parse(raw: str, currency: str) -> Money:
    """A gift's amount as the donor typed it (in the active language), checked against the
    currency's smallest unit and its limits; ValidationError with the donor's message.
    The donate form and the form's live figures (donations.views.gift_quote_json) read
    amounts with it."""
    raw = amount_normalise(raw.strip(), translation.get_language())
    if not NUMBER.match(raw):
        raise forms.ValidationError(
            _("Enter the amount as a number, e.g. 50 or 25.50."), code="number"
        )
    amount = Decimal(raw)  # NUMBER admits only what Decimal reads
    exponent = currency_exponent(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-exponent)):
        raise forms.ValidationError(
            gettext("%(currency)s amounts have at most %(digits)s decimal places.")
            % {"currency": currency, "digits": exponent}
            if exponent
            else gettext("%(currency)s amounts are whole numbers.") % {"currency": currency},
            code="decimals",
        )
    low, high = currency_limits(currency)
    if amount < low:
        raise forms.ValidationError(
            gettext("The smallest gift is %(amount)s %(currency)s.")
            % {"amount": number_format(low), "currency": currency},
            code="too_small",
        )
    if amount > high:
        raise forms.ValidationError(
            gettext(
                "Online gifts are limited to %(amount)s %(currency)s; "
                "please contact us for larger gifts."
            )
            % {"amount": number_format(high), "currency": currency},
            code="too_large",
        )
    return Money(amount, currency)


# The model's EmailField column is 254 characters; forms.EmailField would allow 320.
EMAIL_MAX_LENGTH = 254


class TextareaField(forms.CharField):
    """Browsers count a line break as one character against maxlength but submit it as CRLF;
    normalise to LF before the length is checked, as the donor saw it."""

    def to_python(self, value: Any) -> str:
        if isinstance(value, str):
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        return str(super().to_python(value))


# Line breaks and other control characters (a name goes into email headers, where a line
# break is refused by Django and would otherwise start a new header).
NAME_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class NameField(forms.CharField):
    """A person's name on one line."""

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and NAME_FORBIDDEN.search(value):
            raise forms.ValidationError(
                _("A name must be on one line, without line breaks or tabs."), code="line_break"
            )


class CurrencyField(forms.ChoiceField):
    """A choice of the project's offered currencies. A currency the platform takes but that
    this project cannot count gets its own explanation rather than "not a valid choice"."""

    project_currency = ""

    def validate(self, value: Any) -> None:
        if (
            value
            and value in settings.DONATION_CURRENCIES
            and not self.valid_value(value)
            and self.project_currency
        ):
            raise forms.ValidationError(
                _(
                    "Gifts to this project can only be made in %(project)s: a gift in "
                    "%(value)s could not be counted towards its goal."
                ),
                code="currency_not_offered",
                params={"project": self.project_currency, "value": value},
            )
        super().validate(value)


class DonateForm(forms.Form):
    """The donor's gift. Validates everything before any row or Checkout Session exists."""

    preset = forms.ChoiceField(required=False, widget=forms.RadioSelect)
    custom_amount = forms.CharField(
        required=False,
        max_length=20,
        label=_("Other amount"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    currency = CurrencyField(choices=currency_choices)
    frequency = forms.ChoiceField(
        choices=Donation.Frequency.choices,
        initial=Donation.Frequency.ONE_TIME,
        widget=forms.RadioSelect,
    )
    donor_name = NameField(label=_("Your name"), max_length=120)
    donor_email = forms.EmailField(label=_("Email (for your receipt)"), max_length=EMAIL_MAX_LENGTH)
    anonymous = forms.BooleanField(required=False, label=_("Show my gift as anonymous"))
    hide_amount = forms.BooleanField(required=False, label=_("Don't show my amount publicly"))
    cover_fee = forms.BooleanField(
        required=False,
        # xgettext:no-python-format
        label=_("Cover the processing fee so 100% goes to conservation"),
    )
    tribute_type = forms.ChoiceField(
        choices=Donation.Tribute.choices, required=False, label=_("Dedicate this gift")
    )
    tribute_name = NameField(required=False, max_length=120, label=_("Honouree's name"))
    tribute_notify_email = forms.EmailField(
        required=False,
        max_length=EMAIL_MAX_LENGTH,
        label=_("Let someone know (email, optional)"),
    )
    message = TextareaField(
        required=False,
        max_length=280,
        label=_("Public message (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # The referral code of the shared link the donor came from (hidden; projects.sharing).
    ref = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    # This press of Donate, made by the donor's browser (static/js/donate-key.js): posted
    # twice, it is one gift (donations.services.giving.donation_by_key). Empty without
    # JavaScript; anything but a UUID is refused.
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)
    # Honeypot: hidden from people by CSS and aria-hidden; bots fill it in.
    website = forms.CharField(required=False, label=_("Leave this empty"))

    def __init__(self, *args: Any, currency: str = "USD", **kwargs: Any) -> None:
        """`currency` is the project's currency: the form offers only the currencies a gift
        to the project can be counted in (offered_currencies) and their presets."""
        kwargs.setdefault("initial", {}).setdefault("currency", currency)
        super().__init__(*args, **kwargs)
        self.project_currency = currency
        self.offered_currencies = offered_currencies(currency)
        field = self.fields["currency"]
        assert isinstance(field, CurrencyField)
        field.choices = [(c, c) for c in self.offered_currencies]
        field.project_currency = currency
        # Any offered currency's preset is a valid choice here; clean() checks that it is
        # one of the chosen currency's.
        values = dict.fromkeys(
            preset_value(a) for c in self.offered_currencies for a in currency_presets(c)
        )
        self.fields["preset"].choices = [  # type: ignore[attr-defined]
            *((v, v) for v in values),
            ("other", _("Other")),
        ]

    @property
    def shown_currency(self) -> str:
        """The currency the form shows its presets in: the donor's choice when it is one of
        the offered currencies (a re-shown form), else the project's."""
        value = self["currency"].value()
        return value if value in self.offered_currencies else self.project_currency

    def clean_ref(self) -> Referral | None:
        # Not the donor's input: a code that is not one of ours is dropped, never an error.
        return referral_parse(self.cleaned_data.get("ref"))

    def clean_idempotency_key(self) -> UUID | None:
        raw = (self.cleaned_data.get("idempotency_key") or "").strip()
        if not raw:
            return None
        if not IDEMPOTENCY_KEY.fullmatch(raw):
            # A form-wide error: the template shows it (the hidden field has no error slot).
            self.add_error(None, _("This form could not be submitted. Please reload the page."))
            return None
        return UUID(raw)

    def clean_website(self) -> str:
        if self.cleaned_data.get("website"):
            # A form-wide error: the template shows it (the hidden field has no error slot).
            self.add_error(None, _("This form could not be submitted. Please try again."))
        return ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        email = data.get("donor_email")
        if email:
            email = email.lower()
            if len(email) > EMAIL_MAX_LENGTH:  # lower-casing can lengthen a few letters (İ)
                self.add_error("donor_email", _("Enter a shorter email address."))
            else:
                data["donor_email"] = email
        currency = data.get("currency")
        raw = (data.get("custom_amount") or "").strip()
        preset = data.get("preset") or ""
        if preset and preset != "other" and not raw:
            if currency and preset not in {preset_value(a) for a in currency_presets(currency)}:
                # A preset shown for another currency (the donor changed the currency
                # without JavaScript): its amount means something else in this one.
                self.add_error(
                    "custom_amount",
                    gettext("Choose one of the suggested %(currency)s amounts or enter your own.")
                    % {"currency": currency},
                )
                return data
            raw = preset
        if not raw:
            self.add_error("custom_amount", _("Choose an amount or enter your own."))
            return data
        if currency:
            try:
                data["amount"] = amount_parse(raw, currency)
            except forms.ValidationError as exc:
                self.add_error("custom_amount", exc)
                if exc.code in {"number", "decimals"}:
                    return data  # (a gift outside the limits still has its dedication checked)
        elif not NUMBER.match(amount_normalise(raw, translation.get_language())):
            self.add_error("custom_amount", _("Enter the amount as a number, e.g. 50 or 25.50."))
            return data
        if data.get("tribute_type") and not (data.get("tribute_name") or "").strip():
            self.add_error("tribute_name", _("Whom is this gift in honour or memory of?"))
        if not data.get("tribute_type"):
            data["tribute_name"] = ""
            data["tribute_notify_email"] = ""
        return data
