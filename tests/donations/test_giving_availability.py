"""Whether a gift can start: the rate limits, Stripe down or recovering within the retries,
and projects that do not take gifts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from djmoney.money import Money

from donations.models import Donation, TransitionLog
from projects.models import FundingTotals, Project
from tests.donations.giving_helpers import (
    SESSIONS,
    assert_refused,
    donate_url,
    gift_data,
    in_one_window,
    page_text,
    session_requests,
)

# --- rate limits ----------------------------------------------------------------------------


def test_rate_limit_per_ip(
    client: Client, project: Project, fake_stripe: Any, settings: Any
) -> None:
    settings.DONATION_RATE_LIMIT_PER_IP = "3/h"
    settings.DONATION_RATE_LIMIT_PER_EMAIL = "100/h"

    def scenario(attempt: int) -> None:
        ip = f"203.0.113.{attempt + 10}"
        for n in range(3):
            r = client.post(
                donate_url(project), gift_data(donor_email=f"d{n}@example.org"), REMOTE_ADDR=ip
            )
            assert r.status_code == 303, r.content[:3000]
        r = client.post(
            donate_url(project), gift_data(donor_email="d4@example.org"), REMOTE_ADDR=ip
        )
        assert r.status_code == 429
        assert "Location" not in r
        assert "Too many gifts were started from here in a short time." in page_text(r)
        assert Donation.objects.count() == 3
        assert not Donation.objects.filter(donor_email="d4@example.org").exists()
        assert len(session_requests(fake_stripe)) == 3
        # Another address is not affected.
        r = client.post(
            donate_url(project), gift_data(donor_email="d5@example.org"), REMOTE_ADDR="198.51.100.9"
        )
        assert r.status_code == 303
        assert Donation.objects.count() == 4

    in_one_window(scenario, fake_stripe)


def test_invalid_forms_do_not_use_up_the_rate_limit(
    client: Client, project: Project, fake_stripe: Any, settings: Any
) -> None:
    settings.DONATION_RATE_LIMIT_PER_IP = "1/h"

    def scenario(attempt: int) -> None:
        ip = f"198.51.100.{attempt + 50}"
        for _ in range(3):
            r = client.post(
                donate_url(project), gift_data(custom_amount="oops", preset="other"), REMOTE_ADDR=ip
            )
            assert r.status_code == 400
        r = client.post(donate_url(project), gift_data(), REMOTE_ADDR=ip)
        assert r.status_code == 303
        r = client.post(donate_url(project), gift_data(), REMOTE_ADDR=ip)
        assert r.status_code == 429
        assert Donation.objects.count() == 1

    in_one_window(scenario, fake_stripe)


# --- Stripe unavailable ---------------------------------------------------------------------


def test_stripe_down_tells_the_donor_and_marks_the_attempt_failed(
    client: Client, project: Project, fake_stripe: Any
) -> None:
    fake_stripe.fail_next(SESSIONS, 500, 500, 500, 500)

    response = client.post(donate_url(project), gift_data())

    assert response.status_code == 503, response.content[:3000]
    assert "Location" not in response
    text = page_text(response)
    assert "We could not reach our payment processor, and nothing was charged." in text
    assert 'value="Ana Quispe"' in response.content.decode()
    donation = Donation.objects.get()  # kept for finance, never pretending to be under way
    assert donation.status == Donation.Status.FAILED
    assert donation.failed_at is not None
    assert donation.checkout_session_id is None
    log = TransitionLog.objects.get(donation=donation)
    assert (log.action, log.from_status, log.to_status, log.applied) == (
        "fail",
        "pending",
        "failed",
        True,
    )
    assert "checkout session not created" in log.note
    requests = session_requests(fake_stripe)
    assert len(requests) >= 2  # the client retried...
    assert {r["idempotency_key"] for r in requests} == {str(donation.pk)}  # ...with one key
    totals = FundingTotals.objects.get(project=project)
    assert totals.raised.amount == 0
    status = client.get(f"/donations/{donation.pk}/status.json").json()
    assert status["status"] == "failed"


def test_stripe_recovering_within_the_retries_still_sends_the_donor_on(
    client: Client, project: Project, fake_stripe: Any
) -> None:
    fake_stripe.fail_next(SESSIONS, 500)

    response = client.post(donate_url(project), gift_data())

    assert response.status_code == 303
    donation = Donation.objects.get()
    assert donation.status == Donation.Status.PENDING
    requests = session_requests(fake_stripe)
    assert len(requests) == 2
    assert {r["idempotency_key"] for r in requests} == {str(donation.pk)}


# --- projects that do not take gifts --------------------------------------------------------


@pytest.mark.parametrize(("gifts", "matched"), [("303600", "0"), ("253600", "50000")])
def test_funded_project_that_closes_after_its_goal_refuses_gifts(
    client: Client, make_project: Any, fake_stripe: Any, gifts: str, matched: str
) -> None:
    project = make_project(after_goal=Project.AfterGoal.CLOSE_FORM)
    FundingTotals.objects.filter(project=project).update(
        raised=Money(Decimal(gifts), "USD"), matched=Money(Decimal(matched), "USD")
    )

    page = client.get(f"/projects/{project.slug}/")
    assert page.status_code == 200
    assert "This project is not accepting gifts any more." in page_text(page)
    assert 'class="donate-form"' not in page.content.decode()

    response = client.post(donate_url(project), gift_data())
    assert_refused(
        response, fake_stripe, status=409, message="This project is not accepting gifts any more."
    )


def test_closing_project_still_takes_gifts_until_funded(
    client: Client, make_project: Any, fake_stripe: Any
) -> None:
    project = make_project(after_goal=Project.AfterGoal.CLOSE_FORM)
    FundingTotals.objects.filter(project=project).update(raised=Money(Decimal("303599"), "USD"))

    page = client.get(f"/projects/{project.slug}/")
    assert 'class="donate-form"' in page.content.decode()
    assert client.post(donate_url(project), gift_data()).status_code == 303


def test_funded_project_that_keeps_accepting_takes_gifts(
    client: Client, make_project: Any, fake_stripe: Any
) -> None:
    project = make_project(after_goal=Project.AfterGoal.KEEP_ACCEPTING)
    FundingTotals.objects.filter(project=project).update(raised=Money(Decimal("400000"), "USD"))

    assert client.post(donate_url(project), gift_data()).status_code == 303
    assert Donation.objects.count() == 1


def test_draft_project_is_not_found(client: Client, make_project: Any, fake_stripe: Any) -> None:
    project = make_project(status=Project.Status.DRAFT)

    assert client.get(f"/projects/{project.slug}/").status_code == 404
    response = client.post(donate_url(project), gift_data())
    assert response.status_code == 404
    assert Donation.objects.count() == 0
    assert session_requests(fake_stripe) == []


def test_archived_project_refuses_gifts(
    client: Client, make_project: Any, fake_stripe: Any
) -> None:
    project = make_project(status=Project.Status.ARCHIVED)

    response = client.post(donate_url(project), gift_data())
    assert_refused(
        response, fake_stripe, status=409, message="This project is not accepting gifts any more."
    )


def test_unknown_project_is_not_found(client: Client, db: None, fake_stripe: Any) -> None:
    assert client.post("/projects/no-such-forest/donate/", gift_data()).status_code == 404
    assert session_requests(fake_stripe) == []
