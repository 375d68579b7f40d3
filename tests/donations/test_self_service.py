"""Donor self-service: the emailed sign-in link, My gifts, receipts, the year statement,
the customer portal (the test provider's and Stripe's) and the failed-payment email."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from donations.models import Donation, PaymentFailureNotice, SignInLink, WebhookEvent
from donations.services import signin
from projects.models import Project
from projects.services.demo import SEED_SLUG
from tests.conftest import visitor_token
from tests.donations.event_helpers import Webhooks, gift_start

LINK = re.compile(r"http://[^\s\"<>]+/my-gifts/enter/[^\s\"<>]+/")


def _token(body: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    assert match
    return match.group(1)


def _give(
    client: Client,
    on_commit: Any,
    *,
    prefix: str = "",
    email: str = "rosa@example.org",
    frequency: str = "one_time",
    preset: str = "50",
) -> Donation:
    assert client.get(f"{prefix}/projects/{SEED_SLUG}/").status_code == 200
    response = client.post(
        f"{prefix}/projects/{SEED_SLUG}/donate/",
        {
            "csrfmiddlewaretoken": visitor_token(client),
            "preset": preset,
            "currency": "USD",
            "frequency": frequency,
            "donor_name": "Rosa Huamán",
            "donor_email": email,
        },
    )
    assert response.status_code == 303, response.content[:2000]
    checkout = response["Location"]
    body = client.get(checkout).content.decode()
    with on_commit(execute=True):
        response = client.post(
            checkout, {"outcome": "succeed", "csrfmiddlewaretoken": _token(body)}
        )
    assert response.status_code == 303
    return Donation.objects.filter(donor_email=email).order_by("-created_at").first()  # type: ignore[return-value]


def _ask_link(client: Client, email: str, prefix: str = "") -> Any:
    page = client.get(f"{prefix}/my-gifts/").content.decode()
    return client.post(
        f"{prefix}/my-gifts/sign-in/", {"email": email, "csrfmiddlewaretoken": _token(page)}
    )


def _link_from_outbox(email: str) -> str:
    messages = [m for m in mail.outbox if m.to == [email] and LINK.search(str(m.body))]
    assert messages, f"no sign-in link was sent to {email}"
    found = LINK.search(str(messages[-1].body))
    assert found
    return found.group(0)


def _enter(client: Client, link: str) -> Any:
    """Open the emailed link, then press its page's Sign in button (a CSRF-protected POST)."""
    page = client.get(_path(link))
    assert page.status_code == 200, page.content[:2000]
    return client.post(_path(link), {"csrfmiddlewaretoken": _token(page.content.decode())})


def _sign_in(client: Client, email: str, prefix: str = "") -> None:
    mail.outbox.clear()
    assert _ask_link(client, email, prefix).status_code == 200
    assert _enter(client, _link_from_outbox(email)).status_code == 303


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_the_sign_in_link_opens_my_gifts_once(
    seed: Project, django_capture_on_commit_callbacks: Any
) -> None:
    donor = Client()
    gift = _give(donor, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    visitor = Client()
    response = _ask_link(visitor, "Rosa@Example.org")
    assert response.status_code == 200
    assert "If there are gifts made with" in response.content.decode()
    link = _link_from_outbox("rosa@example.org")
    assert mail.outbox[-1].subject == "Your link to My gifts"
    assert "60 minutes" in mail.outbox[-1].body
    response = _enter(visitor, link)
    assert response.status_code == 303 and response["Location"] == "/my-gifts/"
    page = visitor.get("/my-gifts/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Signed in as <strong>rosa@example.org</strong>" in html
    assert seed.title in html and "$50" in html and "Succeeded" in html
    assert f"/my-gifts/receipts/{gift.pk}/" in html
    assert "+$50" in html  # the demo's 2X pool matched it
    # Single use: a second visit (another browser, or the same) is refused.
    again = Client().get(_path(link))
    assert again.status_code == 400
    assert Client().post(_path(link)).status_code == 400
    assert "expired or was already used" in again.content.decode()
    # The database keeps only a digest of the link's secret.
    row = SignInLink.objects.get()
    assert row.used_at is not None and row.digest not in link


def test_opening_the_link_asks_and_only_its_page_signs_in(
    seed: Project, django_capture_on_commit_callbacks: Any
) -> None:
    """Login CSRF: the link signed in on GET, so an attacker's own link (in an image, a
    redirect, a page) signed a victim's browser into the attacker's My gifts."""
    _give(Client(), django_capture_on_commit_callbacks, email="attacker@example.org")
    mail.outbox.clear()
    _ask_link(Client(), "attacker@example.org")
    link = _path(_link_from_outbox("attacker@example.org"))
    victim = Client(enforce_csrf_checks=True)
    page = victim.get(link)  # what following the planted link does
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    html = page.content.decode()
    assert "This link opens the gifts made with <strong>attacker@example.org</strong>" in html
    assert f'<form method="post" action="{link}"' in html
    assert '<button type="submit">Sign in</button>' in html
    assert "_auth_user_id" not in victim.session and "donor_email" not in victim.session
    assert victim.get("/my-gifts/").content.decode().count("Email me a sign-in link") == 1
    # Opening it again (a mail scanner, a second look) uses nothing.
    assert SignInLink.objects.get().used_at is None
    assert victim.get(link).status_code == 200
    # A post from another site carries no token of the victim's: refused, link unused.
    assert victim.post(link).status_code == 403
    assert SignInLink.objects.get().used_at is None
    assert "donor_email" not in victim.session
    # The page's own button signs in, once.
    signed = victim.post(link, {"csrfmiddlewaretoken": _token(html)})
    assert signed.status_code == 303 and signed["Location"] == "/my-gifts/"
    assert (
        "Signed in as <strong>attacker@example.org</strong>"
        in victim.get("/my-gifts/").content.decode()
    )
    assert SignInLink.objects.get().used_at is not None
    assert Client().get(link).status_code == 400


def test_the_answer_is_the_same_whether_or_not_the_address_has_gifts(
    seed: Project, django_capture_on_commit_callbacks: Any
) -> None:
    _give(Client(), django_capture_on_commit_callbacks)
    mail.outbox.clear()

    def answer(email: str) -> tuple[int, str]:
        response = _ask_link(Client(), email)
        body = response.content.decode().replace(email, "EMAIL")
        return response.status_code, re.sub(r'value="[^"]+"', "", body)

    assert answer("rosa@example.org") == answer("nobody@example.org")
    assert [m.to for m in mail.outbox] == [["rosa@example.org"]]  # only the donor got mail
    assert SignInLink.objects.filter(email="nobody@example.org").count() == 0


def test_expired_tampered_and_foreign_links_are_refused(
    seed: Project, django_capture_on_commit_callbacks: Any
) -> None:
    _give(Client(), django_capture_on_commit_callbacks)
    mail.outbox.clear()
    _ask_link(Client(), "rosa@example.org")
    link = _path(_link_from_outbox("rosa@example.org"))
    SignInLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Client().get(link).status_code == 400
    assert Client().post(link).status_code == 400
    token = link.rstrip("/").rsplit("/", 1)[-1]
    tampered = link.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert Client().get(tampered).status_code == 400
    assert Client().get("/my-gifts/enter/not-a-token/").status_code == 400
    with pytest.raises(signin.LinkInvalid):
        signin.sign_in_link_use("x")


def test_asking_for_links_is_rate_limited(
    settings: Any, seed: Project, django_capture_on_commit_callbacks: Any
) -> None:
    _give(Client(), django_capture_on_commit_callbacks)
    mail.outbox.clear()
    settings.DONOR_SIGN_IN_RATE_PER_EMAIL = "2/h"
    settings.DONOR_SIGN_IN_RATE_PER_IP = "4/h"
    statuses = [_ask_link(Client(), "rosa@example.org").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 200]
    assert len(mail.outbox) == 2  # per address, quietly: the page says the same
    refused = _ask_link(Client(), "other@example.org")
    assert refused.status_code == 429
    assert "Too many sign-in links" in refused.content.decode()


def test_pages_with_donor_data_are_private_and_need_a_sign_in(
    seed: Project, django_capture_on_commit_callbacks: Any
) -> None:
    gift = _give(Client(), django_capture_on_commit_callbacks)
    stranger = Client()
    assert stranger.get(f"/my-gifts/receipts/{gift.pk}/").status_code == 404
    assert stranger.get(f"/my-gifts/statements/{timezone.now().year}/").status_code == 302
    donor = Client()
    _sign_in(donor, "rosa@example.org")
    for url in [
        "/my-gifts/",
        f"/my-gifts/receipts/{gift.pk}/",
        f"/my-gifts/statements/{timezone.now().year}/",
    ]:
        response = donor.get(url)
        assert response.status_code == 200, url
        cache = response["Cache-Control"]
        assert "private" in cache and "no-store" in cache, url
    # Someone else's gift is not found, even when signed in.
    other = _give(Client(), django_capture_on_commit_callbacks, email="ann@example.org")
    assert donor.get(f"/my-gifts/receipts/{other.pk}/").status_code == 404
    # Signing out ends it.
    page = donor.get("/my-gifts/").content.decode()
    donor.post("/my-gifts/sign-out/", {"csrfmiddlewaretoken": _token(page)})
    assert "Email me a sign-in link" in donor.get("/my-gifts/").content.decode()


def test_receipt_download_and_resend(
    seed: Project, django_capture_on_commit_callbacks: Any
) -> None:
    gift = _give(Client(), django_capture_on_commit_callbacks)
    donor = Client()
    _sign_in(donor, "rosa@example.org")
    page = donor.get(f"/my-gifts/receipts/{gift.pk}/")
    assert "Thank you for your gift to" in page.content.decode()
    download = donor.get(f"/my-gifts/receipts/{gift.pk}/?download=1")
    assert download["Content-Disposition"] == f'attachment; filename="receipt-{gift.pk}.html"'
    mail.outbox.clear()
    listing = donor.get("/my-gifts/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = donor.post(
            f"/my-gifts/receipts/{gift.pk}/resend/", {"csrfmiddlewaretoken": _token(listing)}
        )
    assert response.status_code == 303
    assert [m.subject for m in mail.outbox] == [f"Your receipt: your gift to {seed.title}"]
    assert (
        "The receipt is on its way to rosa@example.org." in donor.get("/my-gifts/").content.decode()
    )


def test_year_statement_totals_the_years_gifts(
    seed: Project, django_capture_on_commit_callbacks: Any
) -> None:
    first = _give(Client(), django_capture_on_commit_callbacks, preset="50")
    _give(Client(), django_capture_on_commit_callbacks, preset="100")
    old = _give(Client(), django_capture_on_commit_callbacks, preset="25")
    last_year = timezone.now().year - 1
    Donation.objects.filter(pk=old.pk).update(succeeded_at=timezone.now().replace(year=last_year))
    donor = Client()
    _sign_in(donor, "rosa@example.org")
    listing = donor.get("/my-gifts/").content.decode()
    year = timezone.now().year
    assert f"Giving statement {year}" in listing and f"Giving statement {last_year}" in listing
    html = donor.get(f"/my-gifts/statements/{year}/").content.decode()
    assert html.count('data-testid="statement-line"') == 2
    assert 'data-testid="statement-total">$150</td>' in html
    assert str(first.pk) in html and str(old.pk) not in html
    rows = list(
        csv.reader(
            io.StringIO(donor.get(f"/my-gifts/statements/{year}/?format=csv").content.decode())
        )
    )
    assert rows[0] == ["Date", "Project", "Gift reference", "Amount", "Currency", "Note"]
    assert rows[-1] == ["Total", "", "", "150.00", "USD", ""]
    assert donor.get(f"/my-gifts/statements/{year + 1}/").status_code == 404


def test_spanish_gift_gets_spanish_sign_in_and_statement(
    seed: Project, django_capture_on_commit_callbacks: Any
) -> None:
    _give(Client(), django_capture_on_commit_callbacks, prefix="/es")
    mail.outbox.clear()
    donor = Client()
    _ask_link(donor, "rosa@example.org", prefix="/es")
    assert mail.outbox[-1].subject == "Tu enlace a Mis donaciones"
    link = _link_from_outbox("rosa@example.org")
    assert "/es/my-gifts/enter/" in link
    confirm = donor.get(_path(link)).content.decode()
    assert "Entrar en Mis donaciones" in confirm and "rosa@example.org" in confirm
    assert "Ábrelo y pulsa «Entrar»" in mail.outbox[-1].body
    assert _enter(donor, link).status_code == 303
    html = donor.get("/es/my-gifts/").content.decode()
    assert "Mis donaciones" in html and "Completada" in html
    statement = donor.get(f"/es/my-gifts/statements/{timezone.now().year}/").content.decode()
    assert '<html lang="es">' in statement and "50\xa0US$" in statement


def test_a_monthly_gift_is_stopped_through_the_test_portal(
    seed: Project, django_capture_on_commit_callbacks: Any
) -> None:
    plan = _give(Client(), django_capture_on_commit_callbacks, frequency="monthly", preset="25")
    plan = Donation.objects.get(pk=plan.pk, parent__isnull=True)
    assert plan.subscription_status in {"", "active"}
    # The receipt links to "manage your monthly gift".
    receipt = next(
        m for m in mail.outbox if m.to == ["rosa@example.org"] and "Thank you" in m.subject
    )
    assert (
        "Manage your monthly gift" in receipt.body
        and "/my-gifts/?email=rosa%40example.org" in receipt.body
    )
    donor = Client()
    _sign_in(donor, "rosa@example.org")
    html = donor.get("/my-gifts/").content.decode()
    assert "Monthly gifts" in html and "Manage this monthly gift" in html
    response = donor.post(
        f"/my-gifts/monthly/{plan.pk}/manage/", {"csrfmiddlewaretoken": _token(html)}
    )
    assert response.status_code == 303
    portal = response["Location"]
    assert portal.startswith("/donations/test-portal/bps_test_")
    page = donor.get(portal).content.decode()
    assert "Test customer portal, no money moves." in page and "Stop this monthly gift" in page
    subscription = re.search(r'name="subscription" value="([^"]+)"', page)
    assert subscription
    with django_capture_on_commit_callbacks(execute=True):
        response = donor.post(
            portal,
            {
                "subscription": subscription.group(1),
                "action": "cancel",
                "csrfmiddlewaretoken": _token(page),
            },
        )
    assert response.status_code == 303
    assert "Your monthly gift is stopped" in donor.get(response["Location"]).content.decode()
    plan.refresh_from_db()
    assert plan.subscription_status == "canceled"
    event = WebhookEvent.objects.get(type="customer.subscription.deleted")
    assert event.status == WebhookEvent.Status.PROCESSED  # through the signed webhook path
    assert 'data-testid="plan-status">Stopped' in donor.get("/my-gifts/").content.decode()
    # Another customer's subscription cannot be cancelled from this portal session.
    assert (
        donor.post(
            portal,
            {"subscription": "sub_other", "action": "cancel", "csrfmiddlewaretoken": _token(page)},
        ).status_code
        == 400
    )


def test_stripe_customer_portal_is_opened_for_the_gifts_customer(
    hooks: Webhooks, project: Any, fake_stripe: Any, settings: Any
) -> None:
    plan = gift_start(project, "25", frequency=Donation.Frequency.MONTHLY, email="mo@example.org")
    _sub, first_invoice = fake_stripe.subscribe(plan.checkout_session_id)
    hooks.deliver("checkout.session.completed", fake_stripe.get(plan.checkout_session_id))
    hooks.deliver("invoice.paid", first_invoice)
    plan.refresh_from_db()
    assert plan.customer_id
    donor = Client()
    _sign_in(donor, "mo@example.org")
    html = donor.get("/my-gifts/").content.decode()
    response = donor.post(
        f"/my-gifts/monthly/{plan.pk}/manage/", {"csrfmiddlewaretoken": _token(html)}
    )
    assert response.status_code == 303
    assert response["Location"].startswith("https://billing.stripe.com/p/session/")
    created = [r for r in fake_stripe.requests if r["path"] == "/v1/billing_portal/sessions"]
    assert created[-1]["params"] == {
        "customer": plan.customer_id,
        "return_url": "http://testserver/my-gifts/",
        "locale": "en",
    }
    # Stripe down: the donor is told, nothing breaks.
    fake_stripe.fail_next("/v1/billing_portal/sessions", 500, 500, 500, 500)
    response = donor.post(
        f"/my-gifts/monthly/{plan.pk}/manage/", {"csrfmiddlewaretoken": _token(html)}
    )
    assert response.status_code == 303 and response["Location"] == "/my-gifts/"
    assert "could not reach our payment processor" in donor.get("/my-gifts/").content.decode()


def test_a_failed_monthly_payment_emails_a_card_update_link_once_per_failure(
    hooks: Webhooks, project: Any, fake_stripe: Any
) -> None:
    plan = gift_start(project, "25", frequency=Donation.Frequency.MONTHLY, email="mo@example.org")
    Donation.objects.filter(pk=plan.pk).update(language="es")
    sub, first_invoice = fake_stripe.subscribe(plan.checkout_session_id)
    hooks.deliver("checkout.session.completed", fake_stripe.get(plan.checkout_session_id))
    hooks.deliver("invoice.paid", first_invoice)
    failed = fake_stripe.invoice(
        sub["id"], billing_reason="subscription_cycle", amount=2500, currency="usd"
    )
    failed = fake_stripe.update(
        failed["id"], status="open", amount_paid=0, attempt_count=1, attempted=True
    )
    mail.outbox.clear()
    hooks.deliver("invoice.payment_failed", failed)
    hooks.deliver("invoice.payment_failed", failed)  # the same failure told twice
    assert len(mail.outbox) == 1
    notice = mail.outbox[0]
    assert notice.to == ["mo@example.org"]
    assert notice.subject.startswith("Tu donación mensual a")  # the gift's language
    link = _link_from_outbox("mo@example.org")
    assert "/es/my-gifts/enter/" in link
    assert Donation.objects.filter(subscription_id=sub["id"], status="succeeded").count() == 1
    # The next retry fails too: one more email.
    failed = fake_stripe.update(failed["id"], attempt_count=2)
    hooks.deliver("invoice.payment_failed", failed)
    assert len(mail.outbox) == 2
    assert PaymentFailureNotice.objects.filter(plan=plan).count() == 2
    # The link signs in (it lives longer than a requested one) and shows the plan.
    donor = Client()
    assert _enter(donor, link).status_code == 303
    page = donor.get("/es/my-gifts/").content.decode()
    assert "Gestionar esta donación mensual" in page


def test_thank_you_page_of_a_monthly_gift_links_to_manage_it(
    seed: Project, django_capture_on_commit_callbacks: Any
) -> None:
    plan = _give(Client(), django_capture_on_commit_callbacks, frequency="monthly", preset="25")
    html = Client().get(f"/donations/{plan.pk}/thanks/").content.decode()
    assert "Manage your monthly gift" in html and "/my-gifts/?email=rosa%40example.org" in html
