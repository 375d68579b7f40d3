from typing import Any

from django.test import Client

from donations.models import Donation, WebhookEvent
from projects.models import FundingTotals
from tests.conftest import WEBHOOK_SECRET
from tests.stripe_fake import signed_event


def test_gift_from_form_to_thermometer(
    client: Client, project: Any, fake_stripe: Any, django_capture_on_commit_callbacks: Any
) -> None:
    response = client.post(
        f"/projects/{project.slug}/donate/",
        {
            "preset": "50",
            "currency": "USD",
            "frequency": "one_time",
            "donor_name": "Ana",
            "donor_email": "ana@example.org",
        },
    )
    assert response.status_code == 303, response.content[:2000]
    donation = Donation.objects.get()
    assert response["Location"].startswith("https://checkout.stripe.com/")
    session = fake_stripe.pay(donation.checkout_session_id)
    body, header = signed_event("checkout.session.completed", session, secret=WEBHOOK_SECRET)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            "/stripe/webhook/",
            body,
            content_type="application/json",
            headers={"stripe-signature": header},
        )
    assert r.status_code == 200
    donation.refresh_from_db()
    assert donation.status == "succeeded"
    assert WebhookEvent.objects.get().status == "processed"
    assert FundingTotals.objects.get(project=project).raised.amount == 50
