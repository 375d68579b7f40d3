"""The donate form's idempotency key (static/js/donate-key.js writes it): the same press of
Donate posted twice (nginx handing a post a dying node had read to the other node, a double
click, a reload) is one gift with one Checkout Session, and the second post gets the same
answer. Concurrent duplicates meet at the unique key; a key that is not a UUID, or that
started a different gift, is a form error."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from djmoney.money import Money

from donations.models import Donation
from projects.models import Project
from tests.donations.giving_helpers import (
    SESSIONS,
    assert_refused,
    donate_url,
    gift_data,
    page_text,
    session_requests,
)


def fake_sessions(fake_stripe: Any) -> list[str]:
    with fake_stripe.lock:
        return [k for k, o in fake_stripe.objects.items() if o.get("object") == "checkout.session"]


def test_the_same_key_posted_twice_is_one_gift_one_session_and_the_same_redirect(
    client: Client, project: Project, fake_stripe: Any
) -> None:
    key = str(uuid.uuid4())
    first = client.post(donate_url(project), gift_data(idempotency_key=key))
    second = client.post(donate_url(project), gift_data(idempotency_key=key))

    assert first.status_code == second.status_code == 303, second.content[:3000]
    assert second["Location"] == first["Location"]
    donation = Donation.objects.get()
    assert donation.idempotency_key == uuid.UUID(key)
    assert first["Location"].endswith(f"/c/pay/{donation.checkout_session_id}")
    assert fake_sessions(fake_stripe) == [donation.checkout_session_id]
    # The second post asked Stripe again with the same idempotency key: Stripe's one session.
    assert {r["idempotency_key"] for r in session_requests(fake_stripe)} == {str(donation.pk)}


def test_without_a_key_each_post_is_its_own_gift(
    client: Client, project: Project, fake_stripe: Any
) -> None:
    for _ in range(2):
        assert client.post(donate_url(project), gift_data()).status_code == 303
    assert Donation.objects.count() == 2
    assert set(Donation.objects.values_list("idempotency_key", flat=True)) == {None}
    assert len(fake_sessions(fake_stripe)) == 2


def test_a_key_whose_gift_went_through_answers_with_its_thank_you_page(
    client: Client, project: Project, fake_stripe: Any, settings: Any
) -> None:
    settings.DONATION_RATE_LIMIT_PER_EMAIL = "1/h"
    key = str(uuid.uuid4())
    assert client.post(donate_url(project), gift_data(idempotency_key=key)).status_code == 303
    donation = Donation.objects.get()
    Donation.objects.filter(pk=donation.pk).update(status=Donation.Status.SUCCEEDED)

    again = client.post(donate_url(project), gift_data(idempotency_key=key))

    # Not refused by the rate limit either: the repeat starts nothing.
    assert again.status_code == 303
    assert again["Location"] == f"http://testserver/donations/{donation.pk}/thanks/"
    assert Donation.objects.count() == 1
    assert len(session_requests(fake_stripe)) == 1


@pytest.mark.parametrize(
    "garbage",
    ["not-a-key", "00000000-0000-0000-0000-00000000000g", "{" + str(uuid.uuid4()) + "}", "1" * 36],
)
def test_a_key_that_is_not_a_uuid_is_a_form_error(
    client: Client, project: Project, fake_stripe: Any, garbage: str
) -> None:
    response = client.post(donate_url(project), gift_data(idempotency_key=garbage))
    assert_refused(
        response,
        fake_stripe,
        status=400,
        message="This form could not be submitted. Please reload the page.",
    )


def test_a_key_that_started_another_gift_is_a_form_error_and_starts_nothing(
    client: Client, project: Project, fake_stripe: Any
) -> None:
    key = str(uuid.uuid4())
    assert client.post(donate_url(project), gift_data(idempotency_key=key)).status_code == 303
    other = client.post(
        donate_url(project), gift_data(idempotency_key=key, preset="other", custom_amount="75")
    )
    assert other.status_code == 409
    assert "Location" not in other
    assert "Please reload the page." in page_text(other)
    assert Donation.objects.get().amount == Money(50, "USD")
    assert len(session_requests(fake_stripe)) == 1


def test_a_gift_whose_checkout_failed_releases_its_key(
    client: Client, project: Project, fake_stripe: Any
) -> None:
    key = str(uuid.uuid4())
    fake_stripe.fail_next(SESSIONS, 500, 500, 500)  # the first try and both retries
    failed = client.post(donate_url(project), gift_data(idempotency_key=key))
    assert failed.status_code == 503
    assert Donation.objects.get().status == Donation.Status.FAILED

    again = client.post(donate_url(project), gift_data(idempotency_key=key))

    assert again.status_code == 303
    retried = Donation.objects.get(status=Donation.Status.PENDING)
    assert retried.idempotency_key == uuid.UUID(key)
    assert again["Location"].endswith(f"/c/pay/{retried.checkout_session_id}")
    assert Donation.objects.get(status=Donation.Status.FAILED).idempotency_key is None


def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_duplicate_waits_on_the_unique_key_and_answers_with_the_winner(
    project: Project, fake_stripe: Any
) -> None:
    """The first post's row is inserted but not committed when the second looks the key up
    (finds nothing) and inserts: PostgreSQL makes it wait on the unique key, then refuse it.
    The second post answers with the first one's gift, never a 500 nor a second gift."""
    key = uuid.uuid4()
    inserted, release = threading.Event(), threading.Event()

    def first_post() -> None:
        with transaction.atomic():
            Donation.objects.create(
                project=project,
                amount=Money(50, "USD"),
                frequency=Donation.Frequency.ONE_TIME,
                donor_name="Ana Quispe",
                donor_email="ana@example.org",
                idempotency_key=key,
            )
            inserted.set()
            release.wait(30)
        connection.close()

    answers: list[Any] = []

    def second_post() -> None:
        answers.append(Client().post(donate_url(project), gift_data(idempotency_key=str(key))))
        connection.close()

    winner = threading.Thread(target=first_post)
    winner.start()
    assert inserted.wait(30)
    duplicate = threading.Thread(target=second_post)
    duplicate.start()
    deadline = time.monotonic() + 30
    while _lock_waiters() == 0:  # the duplicate's insert waits on the winner's key
        assert time.monotonic() < deadline, "the duplicate never waited on the unique key"
        time.sleep(0.05)
    release.set()
    winner.join(30)
    duplicate.join(30)

    [answer] = answers
    assert answer.status_code == 303, answer.content[:3000]
    donation = Donation.objects.get()
    assert donation.idempotency_key == key
    assert answer["Location"].endswith(f"/c/pay/{donation.checkout_session_id}")
    assert fake_sessions(fake_stripe) == [donation.checkout_session_id]
