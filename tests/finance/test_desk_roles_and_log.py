"""Roles and the action log: only Finance (and superusers) reach the desk; Editors and
other staff are refused; every action is logged, and the log cannot be changed."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.db import IntegrityError, InternalError, connection, transaction
from django.test import Client

from donations.models import Donation
from finance.models import AppendOnly, FinanceAction
from finance.services.action_log import action_record
from projects.models import Project

DESK_URLS = [
    "/admin/donations/financedesk/",
    "/admin/donations/financedesk/exports/",
    "/admin/donations/financedesk/statements/",
    "/admin/donations/financedesk/statements/print/?email=ana@example.org&year=2026",
    "/admin/donations/financeaction/",
    "/admin/donations/refundrequest/",
    "/admin/donations/statementrun/",
]


def test_finance_reaches_every_desk_page(
    finance_client: Client, project: Project, pay: Any
) -> None:
    d = pay(project)
    for url in [
        *DESK_URLS,
        f"/admin/donations/donation/{d.pk}/refund/",
        f"/admin/donations/donation/{d.pk}/resend-receipt/",
    ]:
        assert finance_client.get(url).status_code == 200, url
    page = finance_client.get(f"/admin/donations/donation/{d.pk}/change/").content.decode()
    assert "ana@example.org" in page  # Finance sees the donor's email
    assert f"/admin/donations/donation/{d.pk}/refund/" in page
    index = finance_client.get("/admin/").content.decode()
    assert "/admin/donations/financedesk/" in index


def test_editor_is_refused_every_desk_page(
    editor_client: Client, project: Project, pay: Any
) -> None:
    d = pay(project)
    for url in [
        *DESK_URLS,
        f"/admin/donations/donation/{d.pk}/refund/",
        f"/admin/donations/donation/{d.pk}/resend-receipt/",
    ]:
        assert editor_client.get(url).status_code == 403, url
    response = editor_client.post(
        f"/admin/donations/donation/{d.pk}/refund/",
        {"key": "6d9c7c8e-3f5e-4d7e-9a52-0f3c6c1b2a11", "amount": "50", "reason": "other"},
    )
    assert response.status_code == 403
    assert not d.refund_requests.exists()
    response = editor_client.post(
        "/admin/donations/financedesk/exports/", {"kind": "donations", "format": "csv"}
    )
    assert response.status_code == 403
    assert "/admin/donations/" not in editor_client.get("/admin/").content.decode()


def test_staff_without_contact_permission_do_not_see_donor_emails(
    project: Project, pay: Any
) -> None:
    d = pay(project, email="hidden-donor@example.org")
    user = User.objects.create_user("viewer", "v@example.org", "pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_donation"))
    client = Client()
    client.force_login(user)
    listing = client.get("/admin/donations/donation/")
    assert listing.status_code == 200
    assert "hidden-donor@example.org" not in listing.content.decode()
    page = client.get(f"/admin/donations/donation/{d.pk}/change/")
    assert page.status_code == 200
    assert "hidden-donor@example.org" not in page.content.decode()
    # Searching by email would reveal who gave: it finds nothing for them.
    found = client.get("/admin/donations/donation/", {"q": "hidden-donor@example.org"})
    assert str(d.pk) not in found.content.decode()
    assert client.get("/admin/donations/financedesk/exports/").status_code == 403


def test_needs_review_change_is_logged(finance_client: Client, project: Project, pay: Any) -> None:
    d = pay(project)
    page = finance_client.get(f"/admin/donations/donation/{d.pk}/change/")
    assert page.status_code == 200
    response = finance_client.post(
        f"/admin/donations/donation/{d.pk}/change/",
        {
            "needs_review": "on",
            "transitions-TOTAL_FORMS": "0",
            "transitions-INITIAL_FORMS": "0",
            "refund_requests-TOTAL_FORMS": "0",
            "refund_requests-INITIAL_FORMS": "0",
            "history-TOTAL_FORMS": "0",
            "history-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    d.refresh_from_db()
    assert d.needs_review
    action = FinanceAction.objects.get(kind=FinanceAction.Kind.NEEDS_REVIEW)
    assert action.actor_label == "fiona"
    assert action.target == f"donation:{d.pk}"
    # The field history names who changed it, from the admin.
    html = finance_client.get(f"/admin/donations/donation/{d.pk}/change/").content.decode()
    assert "History of the money fields" in html
    assert f"fiona via /admin/donations/donation/{d.pk}/change/" in html
    assert "system (task or command)" in html  # the gift was created by the service


@pytest.mark.django_db(transaction=True)
def test_the_action_log_cannot_be_changed_or_deleted() -> None:
    action = action_record(FinanceAction.Kind.EXPORT, "command: test", "Exported 3 rows")
    action.summary = "nothing to see"
    with pytest.raises(AppendOnly):
        action.save()
    with pytest.raises(AppendOnly):
        action.delete()
    for sql in [
        "UPDATE donations_financeaction SET summary = 'x'",
        "DELETE FROM donations_financeaction",
    ]:
        with (
            pytest.raises((IntegrityError, InternalError)),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        FinanceAction.objects.filter(pk=action.pk).update(summary="x")
    assert FinanceAction.objects.get().summary == "Exported 3 rows"


def test_the_log_is_read_only_in_the_admin(finance_client: Client) -> None:
    action = action_record(FinanceAction.Kind.EXPORT, "command: test", "Exported 3 rows")
    page = finance_client.get(f"/admin/donations/financeaction/{action.pk}/change/")
    assert page.status_code == 200
    assert 'type="submit"' not in page.content.decode().split('id="content-main"')[1]
    assert (
        finance_client.post(
            f"/admin/donations/financeaction/{action.pk}/change/", {"summary": "x"}
        ).status_code
        == 403
    )
    assert (
        finance_client.get(f"/admin/donations/financeaction/{action.pk}/delete/").status_code == 403
    )
    assert finance_client.get("/admin/donations/financeaction/add/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_history_records_every_change_of_a_money_field(project: Project) -> None:
    """pghistory's triggers see the lifecycle's conditional UPDATEs, not only save()."""
    from djmoney.money import Money

    d = Donation.objects.create(
        project=project, amount=Money(50, "USD"), donor_name="Ana", donor_email="a@example.org"
    )
    Donation.objects.filter(pk=d.pk).update(status=Donation.Status.SUCCEEDED)
    Donation.objects.filter(pk=d.pk).update(refunded=Money(10, "USD"))
    Donation.objects.filter(pk=d.pk).update(message="not a money field")
    history: Any = d.history  # type: ignore[attr-defined]
    rows = list(history.order_by("pgh_id").values_list("pgh_label", "status", "refunded"))
    assert [r[0] for r in rows] == ["insert", "update", "update"]
    assert rows[1][1] == "succeeded"
    assert str(rows[2][2]) == "10.00"
