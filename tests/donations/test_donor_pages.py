"""What donors see after giving: the thank-you page and its status endpoint, recent
supporters on the project page, and the receipt email."""

from __future__ import annotations

import html
import re
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.cache import caches
from django.test import Client

from donations.models import Donation, WebhookEvent
from projects.models import FundingTotals, Project
from tests.conftest import WEBHOOK_SECRET
from tests.stripe_fake import new_id, recording, signed_event


def start(client: Client, project: Project, **overrides: str) -> Donation:
    data = {
        "preset": "other",
        "custom_amount": "50",
        "currency": "USD",
        "frequency": "one_time",
        "donor_name": "Ana Quispe",
        "donor_email": "ana@example.org",
    }
    data.update(overrides)
    response = client.post(f"/projects/{project.slug}/donate/", data)
    assert response.status_code == 303, response.content[:3000]
    return Donation.objects.get(
        donor_email=data["donor_email"].lower(), donor_name=data["donor_name"]
    )


def deliver(client: Client, capture: Any, event_type: str, obj: dict[str, Any]) -> None:
    body, header = signed_event(event_type, obj, secret=WEBHOOK_SECRET)
    with capture(execute=True):
        response = client.post(
            "/stripe/webhook/",
            body,
            content_type="application/json",
            headers={"stripe-signature": header},
        )
    assert response.status_code == 200, response.content


def pay(client: Client, fake_stripe: Any, capture: Any, donation: Donation) -> Donation:
    session = fake_stripe.pay(donation.checkout_session_id)
    deliver(client, capture, "checkout.session.completed", session)
    donation.refresh_from_db()
    assert donation.status == Donation.Status.SUCCEEDED
    return donation


def fail(client: Client, fake_stripe: Any, capture: Any, donation: Donation) -> Donation:
    """An asynchronous payment (e.g. a bank debit) that did not go through."""
    pi = recording("payment_intent")
    pi.update(
        id=new_id("pi"),
        status="requires_payment_method",
        latest_charge=None,
        metadata={"donation_id": str(donation.pk)},
    )
    fake_stripe.put(pi)
    session = fake_stripe.update(
        str(donation.checkout_session_id),
        status="complete",
        payment_status="unpaid",
        payment_intent=pi["id"],
    )
    deliver(client, capture, "checkout.session.async_payment_failed", session)
    donation.refresh_from_db()
    assert donation.status == Donation.Status.FAILED
    return donation


def expire(client: Client, fake_stripe: Any, capture: Any, donation: Donation) -> Donation:
    session = fake_stripe.update(str(donation.checkout_session_id), status="expired")
    deliver(client, capture, "checkout.session.expired", session)
    donation.refresh_from_db()
    assert donation.status == Donation.Status.EXPIRED
    return donation


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


NOSCRIPT_REFRESH = '<noscript><meta http-equiv="refresh" content="5"></noscript>'


# --- the thank-you page ---------------------------------------------------------------------


def test_pending_gift_shows_processing_never_confirmed(
    client: Client, project: Project, fake_stripe: Any
) -> None:
    donation = start(client, project)

    page = client.get(f"/donations/{donation.pk}/thanks/")

    assert page.status_code == 200
    body = page.content.decode()
    assert 'Status: <strong id="gift-status-label">Processing</strong>' in body
    assert "We are waiting for the payment processor to confirm your gift." in body
    assert "confirmed" not in body.lower()
    assert "receipt is on its way" not in body
    assert 'data-final="false"' in body
    # Without JavaScript the page still moves on: a refresh while pending, and a link.
    assert NOSCRIPT_REFRESH in body
    assert f'href="/projects/{project.slug}/"' in body
    status = client.get(f"/donations/{donation.pk}/status.json")
    assert status.status_code == 200
    assert status.json() == {"status": "processing", "label": "Processing", "final": False}
    assert "no-cache" in status["Cache-Control"] or "max-age=0" in status["Cache-Control"]


def test_paid_gift_is_confirmed_after_the_signed_webhook(
    client: Client, project: Project, fake_stripe: Any, django_capture_on_commit_callbacks: Any
) -> None:
    donation = start(client, project)
    # The donor arrives back from Stripe before the webhook: still processing.
    assert "Processing" in text(client.get(f"/donations/{donation.pk}/thanks/"))

    pay(client, fake_stripe, django_capture_on_commit_callbacks, donation)

    page = client.get(f"/donations/{donation.pk}/thanks/")
    body = text(page)
    assert page.status_code == 200
    assert "Thank you, Ana Quispe!" in body
    assert "Status: Confirmed" in re.sub(r"<[^>]+>", "", body)
    assert "Your gift is confirmed. A receipt is on its way to ana@example.org." in body
    assert "$50" in body
    assert 'data-final="true"' in body
    assert NOSCRIPT_REFRESH not in body
    assert client.get(f"/donations/{donation.pk}/status.json").json() == {
        "status": "confirmed",
        "label": "Confirmed",
        "final": True,
    }


def _session_fetches(fake_stripe: Any, donation: Donation) -> int:
    path = f"/v1/checkout/sessions/{donation.checkout_session_id}"
    return sum(1 for r in fake_stripe.requests if r["method"] == "GET" and r["path"] == path)


def test_thank_you_page_confirms_a_paid_gift_from_its_session_before_the_webhook(
    client: Client, project: Project, fake_stripe: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """After a broker outage the webhook's processing can lag a minute or more; the donor
    who lands on the page is shown the truth at once (Stripe's advice for the success page),
    through the webhook's own transition, and the late webhook changes nothing."""
    donation = start(client, project)
    session = fake_stripe.pay(donation.checkout_session_id)  # paid; no webhook yet

    with django_capture_on_commit_callbacks(execute=True):
        page = client.get(f"/donations/{donation.pk}/thanks/")
    assert "Thank you, Ana Quispe!" in text(page)
    assert 'data-final="true"' in page.content.decode()
    donation.refresh_from_db()
    assert donation.status == Donation.Status.SUCCEEDED
    assert donation.transitions.get(applied=True).event_id == "thank-you page"
    assert FundingTotals.objects.get(project=project).raised.amount == Decimal("50")
    assert len(mail.outbox) == 1  # the receipt, once

    deliver(client, django_capture_on_commit_callbacks, "checkout.session.completed", session)
    donation.refresh_from_db()
    assert donation.transitions.filter(applied=True).count() == 1
    assert FundingTotals.objects.get(project=project).raised.amount == Decimal("50")
    assert len(mail.outbox) == 1
    fetched = _session_fetches(fake_stripe, donation)
    client.get(f"/donations/{donation.pk}/thanks/")  # confirmed: no need to ask again
    assert _session_fetches(fake_stripe, donation) == fetched


def test_a_polling_thank_you_page_asks_stripe_at_most_every_few_seconds(
    client: Client, project: Project, fake_stripe: Any
) -> None:
    donation = start(client, project)  # the donor has not paid (yet)
    for _ in range(5):
        assert client.get(f"/donations/{donation.pk}/status.json").json()["final"] is False
    assert _session_fetches(fake_stripe, donation) == 1
    fake_stripe.fail_next(f"/v1/checkout/sessions/{donation.checkout_session_id}", 500, 500, 500)
    caches["counters"].clear()  # the next poll is due
    page = client.get(f"/donations/{donation.pk}/thanks/")
    assert page.status_code == 200  # Stripe down: the page still answers, "Processing"
    assert "Processing" in text(page)


def test_failed_gift_says_so_and_offers_to_try_again(
    client: Client, project: Project, fake_stripe: Any, django_capture_on_commit_callbacks: Any
) -> None:
    donation = start(client, project)
    fail(client, fake_stripe, django_capture_on_commit_callbacks, donation)

    page = client.get(f"/donations/{donation.pk}/thanks/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Your gift was not completed" in body
    assert "Payment failed" in body
    assert "No money was taken." in body
    assert f'<a href="/projects/{project.slug}/#donate">Try again</a>' in body
    assert "confirmed" not in body.lower()
    assert NOSCRIPT_REFRESH not in body
    assert client.get(f"/donations/{donation.pk}/status.json").json() == {
        "status": "failed",
        "label": "Payment failed",
        "final": True,
    }
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    assert mail.outbox == []


def test_expired_checkout_says_not_completed(
    client: Client, project: Project, fake_stripe: Any, django_capture_on_commit_callbacks: Any
) -> None:
    donation = start(client, project)
    expire(client, fake_stripe, django_capture_on_commit_callbacks, donation)

    body = client.get(f"/donations/{donation.pk}/thanks/").content.decode()
    assert "Not completed" in body
    assert f'<a href="/projects/{project.slug}/#donate">Try again</a>' in body
    assert "confirmed" not in body.lower()
    assert client.get(f"/donations/{donation.pk}/status.json").json() == {
        "status": "expired",
        "label": "Not completed",
        "final": True,
    }


@pytest.mark.parametrize("suffix", ["thanks/", "status.json"])
def test_unknown_donation_is_not_found(client: Client, db: None, suffix: str) -> None:
    assert client.get(f"/donations/{uuid.uuid4()}/{suffix}").status_code == 404
    assert client.get(f"/donations/not-a-uuid/{suffix}").status_code == 404


# --- recent supporters ----------------------------------------------------------------------


def supporters_section(client: Client, project: Project) -> str:
    page = client.get(f"/projects/{project.slug}/")
    assert page.status_code == 200
    match = re.search(
        r'<section class="supporters".*?</section>', page.content.decode(), flags=re.S
    )
    return match.group(0) if match else ""


def test_recent_supporters_show_names_amounts_and_escaped_messages(
    client: Client, project: Project, fake_stripe: Any, django_capture_on_commit_callbacks: Any
) -> None:
    capture = django_capture_on_commit_callbacks
    assert supporters_section(client, project) == ""  # nothing to show yet

    pay(client, fake_stripe, capture, start(client, project, donor_name="Ana Quispe"))
    pay(
        client,
        fake_stripe,
        capture,
        start(
            client,
            project,
            donor_name="Bruno Secret",
            donor_email="bruno@example.org",
            custom_amount="63",
            anonymous="on",
        ),
    )
    pay(
        client,
        fake_stripe,
        capture,
        start(
            client,
            project,
            donor_name="Carla Private",
            donor_email="carla@example.org",
            custom_amount="77",
            hide_amount="on",
        ),
    )
    pay(
        client,
        fake_stripe,
        capture,
        start(
            client,
            project,
            donor_name="Dan",
            donor_email="dan@example.org",
            custom_amount="12",
            message='<script>alert("x")</script> & <b>bold</b>',
        ),
    )
    start(client, project, donor_name="Pending Pete", donor_email="pete@example.org")
    fail(
        client,
        fake_stripe,
        capture,
        start(client, project, donor_name="Failed Fiona", donor_email="fiona@example.org"),
    )
    expire(
        client,
        fake_stripe,
        capture,
        start(client, project, donor_name="Expired Ed", donor_email="ed@example.org"),
    )

    section = supporters_section(client, project)
    assert "<strong>Ana Quispe</strong> gave $50" in section
    assert "<strong>Anonymous</strong> gave $63" in section
    assert "Bruno" not in section
    assert "<strong>Carla Private</strong>" in section
    assert "$77" not in section
    assert "<strong>Dan</strong> gave $12" in section
    assert (
        "<q>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;</q>"
        in section
    )
    assert "<script>" not in section
    assert "<b>" not in section
    for absent in ("Pending Pete", "Failed Fiona", "Expired Ed"):
        assert absent not in section
    page = client.get(f"/projects/{project.slug}/").content.decode()
    assert '<script>alert("x")' not in page
    assert "Bruno" not in page


# --- dedications ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tribute_type", "phrase"), [("memory", "in memory of"), ("honour", "in honour of")]
)
def test_tribute_flows_into_the_receipt_thanks_page_and_supporters(
    client: Client,
    project: Project,
    fake_stripe: Any,
    django_capture_on_commit_callbacks: Any,
    tribute_type: str,
    phrase: str,
) -> None:
    donation = start(
        client,
        project,
        tribute_type=tribute_type,
        tribute_name="Grandpa Tomás",
        tribute_notify_email="Family@Example.org",
    )
    assert donation.tribute_type == tribute_type
    assert donation.tribute_name == "Grandpa Tomás"
    assert donation.tribute_notify_email == "Family@Example.org"
    assert mail.outbox == []  # no receipt before the payment is confirmed

    pay(client, fake_stripe, django_capture_on_commit_callbacks, donation)

    [receipt] = [m for m in mail.outbox if m.to == ["ana@example.org"]]
    [notice] = [m for m in mail.outbox if m.to == ["Family@Example.org"]]
    assert len(mail.outbox) == 2  # the receipt, and the notice the donor asked for
    assert f"{phrase} Grandpa Tomás" in notice.subject
    assert receipt.subject == f"Thank you for your gift to {project.title}"
    assert f"Dedicated {phrase} Grandpa Tomás" in receipt.body
    assert str(donation.pk) in receipt.body
    [(html_body, mimetype)] = receipt.alternatives  # type: ignore[attr-defined]
    assert mimetype == "text/html"
    assert f"{phrase.capitalize()} Grandpa Tomás" in html.unescape(html_body)
    donation.refresh_from_db()
    assert donation.receipt_sent_at is not None

    thanks = text(client.get(f"/donations/{donation.pk}/thanks/"))
    assert f"{phrase.capitalize()} Grandpa Tomás" in thanks
    assert f"{phrase} Grandpa Tomás" in html.unescape(supporters_section(client, project))

    # The same event again (Stripe retries): still one receipt.
    session = fake_stripe.get(str(donation.checkout_session_id))
    deliver(client, django_capture_on_commit_callbacks, "checkout.session.completed", session)
    assert len(mail.outbox) == 2


def test_tribute_name_is_dropped_without_a_tribute_type(
    client: Client, project: Project, fake_stripe: Any, django_capture_on_commit_callbacks: Any
) -> None:
    donation = start(client, project, tribute_type="", tribute_name="Someone")
    assert donation.tribute_name == ""
    pay(client, fake_stripe, django_capture_on_commit_callbacks, donation)
    [receipt] = mail.outbox
    assert "Dedicated" not in receipt.body
    assert "Someone" not in receipt.body
