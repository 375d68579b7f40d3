"""Refunds from the admin through the provider interface (the local test provider, which
delivers Stripe's signed charge.refunded event to our webhook), and receipt re-sends."""

from __future__ import annotations

import re
import threading
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import connection
from django.test import Client

from donations.models import Donation, TestProviderObject
from finance.models import FinanceAction, RefundRequest
from finance.services import desk_refunds as refunds
from projects.models import Project


def _form(client: Client, d: Donation) -> dict[str, str]:
    page = client.get(f"/admin/donations/donation/{d.pk}/refund/").content.decode()
    key = re.search(r'name="key" value="([^"]+)"', page)
    assert key, page[:2000]
    return {
        "key": key.group(1),
        "amount": "20.00",
        "reason": "requested_by_customer",
        "note": "asked by phone",
    }


def test_partial_refund_through_the_admin(
    finance_client: Client, project: Project, pay: Any, django_capture_on_commit_callbacks: Any
) -> None:
    d = pay(project, "50")
    data = _form(finance_client, d)
    with django_capture_on_commit_callbacks(execute=True):
        response = finance_client.post(f"/admin/donations/donation/{d.pk}/refund/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    rr = RefundRequest.objects.get()
    assert rr.state == RefundRequest.State.SENT
    assert rr.provider_refund_id.startswith("re_test_")
    assert str(rr.idempotency_key) == data["key"]
    d.refresh_from_db()
    # The test provider delivered Stripe's event; the lifecycle applied it.
    assert d.refunded.amount == Decimal("20.00")
    assert d.status == Donation.Status.PARTIALLY_REFUNDED
    assert refunds.refund_confirmed(rr)
    assert refunds.refundable(d).amount == Decimal("30.00")
    action = FinanceAction.objects.get(kind=FinanceAction.Kind.REFUND)
    assert action.actor_label == "fiona" and action.detail["amount"] == "20.00"
    # The same form posted again (a double click, a retry) is the same request: no second refund.
    with django_capture_on_commit_callbacks(execute=True):
        again = finance_client.post(f"/admin/donations/donation/{d.pk}/refund/", data)
    assert again.status_code == 302
    assert RefundRequest.objects.count() == 1
    d.refresh_from_db()
    assert d.refunded.amount == Decimal("20.00")
    assert TestProviderObject.objects.filter(data__object="refund").count() == 1


def test_refund_is_capped_at_what_remains(
    finance_client: Client, project: Project, pay: Any, django_capture_on_commit_callbacks: Any
) -> None:
    d = pay(project, "50")
    data = {**_form(finance_client, d), "amount": "50.01"}
    response = finance_client.post(f"/admin/donations/donation/{d.pk}/refund/", data)
    assert response.status_code == 400
    assert "At most 50.00 USD remains refundable" in response.content.decode()
    for bad, message in [
        ("0", "more than zero"),
        ("abc", "is not an amount"),
        ("1.001", "at most 2 decimals"),
    ]:
        response = finance_client.post(
            f"/admin/donations/donation/{d.pk}/refund/", {**data, "amount": bad}
        )
        assert response.status_code == 400 and message in response.content.decode(), bad
    assert not RefundRequest.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        full = finance_client.post(
            f"/admin/donations/donation/{d.pk}/refund/",
            {**_form(finance_client, d), "amount": "50"},
        )
    assert full.status_code == 302
    d.refresh_from_db()
    assert d.status == Donation.Status.REFUNDED
    response = finance_client.post(
        f"/admin/donations/donation/{d.pk}/refund/", {**_form(finance_client, d), "amount": "1"}
    )
    assert response.status_code == 400
    assert "cannot be refunded" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_officers_refunding_at_once_refund_once(project: Project, pay: Any) -> None:
    """Two requests for the whole gift, different keys, at the same moment: the donation's
    row lock serialises them and the second finds nothing left."""
    d = pay(project, "50")
    officers = [User.objects.create_user(f"o{i}", is_staff=True) for i in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def officer(user: User) -> None:
        try:
            barrier.wait()
            refunds.refund_request(
                donation_id=d.pk,
                amount=Decimal("50"),
                reason="duplicate",
                actor=user,
                idempotency_key=uuid.uuid4(),
            )
            outcomes.append("refunded")
        except refunds.RefundRefused as exc:
            outcomes.append(f"refused: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=officer, args=(u,)) for u in officers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.split(":")[0] for o in outcomes) == ["refunded", "refused"], outcomes
    d.refresh_from_db()
    assert d.refunded.amount == Decimal("50.00")
    assert RefundRequest.objects.count() == 1
    assert TestProviderObject.objects.filter(data__object="refund").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_request_twice_at_once_is_sent_once(project: Project, pay: Any) -> None:
    d = pay(project, "50")
    user = User.objects.create_user("o", is_staff=True)
    key = uuid.uuid4()
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def click() -> None:
        try:
            barrier.wait()
            results.append(
                refunds.refund_request(
                    donation_id=d.pk,
                    amount=Decimal("10"),
                    reason="other",
                    actor=user,
                    idempotency_key=key,
                ).pk
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and results[0] == results[1]
    d.refresh_from_db()
    assert d.refunded.amount == Decimal("10.00")
    assert TestProviderObject.objects.filter(data__object="refund").count() == 1


def test_a_pending_gift_cannot_be_refunded(finance_client: Client, project: Project) -> None:
    from djmoney.money import Money

    d = Donation.objects.create(
        project=project, amount=Money(50, "USD"), donor_name="A", donor_email="a@example.org"
    )
    data = {**_form(finance_client, d), "amount": "1"}
    response = finance_client.post(f"/admin/donations/donation/{d.pk}/refund/", data)
    assert response.status_code == 400
    assert "Only a gift Stripe has charged can be refunded" in response.content.decode()


def test_receipt_resend_to_a_corrected_email_and_after_a_refund(
    finance_client: Client, project: Project, pay: Any, django_capture_on_commit_callbacks: Any
) -> None:
    d = pay(project, "50", email="ana@exmaple.org")
    mail.outbox.clear()
    url = f"/admin/donations/donation/{d.pk}/resend-receipt/"
    assert finance_client.post(url, {"to": "not an email"}).status_code == 400
    response = finance_client.post(url, {"to": "ana@example.org"})
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["ana@example.org"]]
    assert mail.outbox[0].subject.startswith("Your receipt")
    action = FinanceAction.objects.get(kind=FinanceAction.Kind.RECEIPT_RESEND)
    assert action.detail == {"to": "ana@example.org", "corrected_email": True}
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(
            f"/admin/donations/donation/{d.pk}/refund/",
            {**_form(finance_client, d), "amount": "20"},
        )
    mail.outbox.clear()
    assert finance_client.post(url, {"to": ""}).status_code == 302
    message = mail.outbox[0]
    assert message.to == ["ana@exmaple.org"]  # the donor's own address when none is given
    assert message.subject.startswith("Corrected receipt")
    assert "This is a corrected receipt" in message.body
    assert "$30" in message.body  # charged 50, refunded 20


def test_finance_cancels_a_monthly_gift_through_the_provider(
    finance_client: Client,
    editor_client: Client,
    project: Project,
    pay: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    plan = pay(project, "25", frequency="monthly")
    assert plan.subscription_id and plan.subscription_status in {"", "active"}
    page = finance_client.get(f"/admin/donations/donation/{plan.pk}/change/").content.decode()
    url = f"/admin/donations/donation/{plan.pk}/cancel-monthly/"
    assert url in page
    assert editor_client.post(url, {"reason": "x"}).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = finance_client.post(url, {"reason": "the donor asked by phone"})
    assert response.status_code == 302, response.content.decode()[:2000]
    plan.refresh_from_db()
    # Stripe's customer.subscription.deleted came back through the webhook and was recorded.
    assert plan.subscription_status == "canceled"
    assert plan.status == Donation.Status.SUCCEEDED  # the gift already made is kept
    action = FinanceAction.objects.get(kind=FinanceAction.Kind.CANCEL_MONTHLY)
    assert action.detail["reason"] == "the donor asked by phone"
    again = finance_client.post(url, {"reason": ""})
    assert again.status_code == 400 and "already cancelled" in again.content.decode()
    one_time = pay(project, "5", email="bo@example.org")
    refused = finance_client.post(f"/admin/donations/donation/{one_time.pk}/cancel-monthly/", {})
    assert refused.status_code == 400 and "not a monthly gift" in refused.content.decode()


def test_a_refund_is_pending_until_stripes_event_is_processed(
    finance_client: Client, project: Project, pay: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from donations.models import WebhookEvent
    from donations.services import events

    d = pay(project, "50")
    # The provider accepts the refund and delivers charge.refunded; the event is stored in
    # the inbox but its processing (queued after commit) has not run yet.
    with django_capture_on_commit_callbacks(execute=False):
        response = finance_client.post(
            f"/admin/donations/donation/{d.pk}/refund/",
            {**_form(finance_client, d), "amount": "30"},
        )
    assert response.status_code == 302
    rr = RefundRequest.objects.get()
    d.refresh_from_db()
    assert rr.state == RefundRequest.State.SENT and d.refunded.amount == 0
    assert not refunds.refund_confirmed(rr)
    # Pending money is not refundable twice: 50 charged, 30 on its way.
    assert refunds.refundable(d).amount == Decimal("20.00")
    listing = finance_client.get("/admin/donations/refundrequest/").content.decode()
    assert "icon-no.svg" in listing  # "Confirmed by Stripe's event": no
    refused = finance_client.post(
        f"/admin/donations/donation/{d.pk}/refund/", {**_form(finance_client, d), "amount": "25"}
    )
    assert refused.status_code == 400 and "At most 20.00 USD remains" in refused.content.decode()
    pending = WebhookEvent.objects.filter(
        status=WebhookEvent.Status.RECEIVED, type="charge.refunded"
    )
    assert pending.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        events.event_process(event_pk=pending.get().pk)
    d.refresh_from_db()
    assert d.refunded.amount == Decimal("30.00")
    assert refunds.refund_confirmed(rr)
    assert refunds.refundable(d).amount == Decimal("20.00")
