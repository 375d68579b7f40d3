"""Offline gifts and batches through the admin, as Finance (and refused to an Editor): they
count in the thermometer and the ledger, are matched per the setting, get a receipt, and
are voided by a reversing entry, never deleted."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core import mail
from django.test import Client
from django.utils import timezone
from djmoney.money import Money

from donations.models import Donation, LedgerEntry, MatchingPool
from donations.services.reconcile import reconcile_check
from finance.models import FinanceAction, OfflineBatch, OfflineGift
from projects.models import FundingTotals, Project

ADD = "/admin/donations/offlinegift/add/"


def _gift(project: Project, **overrides: Any) -> dict[str, Any]:
    data = {
        "project": project.pk,
        "amount": "250.00",
        "currency": "USD",
        "donor_name": "Carmen Flores",
        "donor_email": "carmen@example.org",
        "method": "cheque",
        "reference": "CHQ 001234",
        "received_on": timezone.localdate().isoformat(),
        "note": "",
    }
    data.update(overrides)
    return data


def _pool(project: Project) -> MatchingPool:
    now = timezone.now()
    pool = MatchingPool.objects.create(
        sponsor_name="Sponsor",
        cap=Money(1000, "USD"),
        ratio=Decimal(1),
        starts_at=now - timedelta(days=10),
        ends_at=now + timedelta(days=10),
    )
    pool.projects.add(project)
    return pool


def test_an_offline_gift_counts_is_matched_receipted_and_voided(
    finance_client: Client, project: Project, django_capture_on_commit_callbacks: Any
) -> None:
    _pool(project)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = finance_client.post(ADD, _gift(project))
    assert response.status_code == 302, response.content.decode()[:3000]
    offline = OfflineGift.objects.select_related("donation").get()
    d = offline.donation
    assert d.status == Donation.Status.SUCCEEDED and d.counted == Decimal("250.00")
    totals = FundingTotals.objects.get(project=project)
    assert totals.raised.amount == Decimal("250.00")
    assert totals.matched.amount == Decimal("250.00")  # matched like an online gift
    assert totals.donor_count == 1
    kinds = sorted(LedgerEntry.objects.filter(donation=d).values_list("kind", flat=True))
    assert kinds == ["match", "offline_gift"]
    assert [m.to for m in mail.outbox] == [["carmen@example.org"]]
    assert FinanceAction.objects.filter(kind="offline_gift", actor_label="fiona").count() == 1
    assert reconcile_check(unpaid_after_days=0).ok  # the check that proves the thermometer
    # Voided: reversing rows, the totals back to zero, the gift kept.
    page = finance_client.get(f"/admin/donations/offlinegift/{offline.pk}/change/")
    assert f"/admin/donations/offlinegift/{offline.pk}/void/" in page.content.decode()
    assert (
        finance_client.post(
            f"/admin/donations/offlinegift/{offline.pk}/void/", {"reason": ""}
        ).status_code
        == 400
    )
    response = finance_client.post(
        f"/admin/donations/offlinegift/{offline.pk}/void/", {"reason": "entered twice"}
    )
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.status == Donation.Status.VOIDED and d.counted == 0
    totals.refresh_from_db()
    assert (totals.raised.amount, totals.matched.amount, totals.donor_count) == (0, 0, 0)
    kinds = sorted(LedgerEntry.objects.filter(donation=d).values_list("kind", flat=True))
    assert kinds == ["match", "match_reversal", "offline_gift", "offline_void"]
    assert OfflineGift.objects.filter(pk=offline.pk, voided_at__isnull=False).exists()
    again = finance_client.post(f"/admin/donations/offlinegift/{offline.pk}/void/", {"reason": "x"})
    assert again.status_code == 400 and "already voided" in again.content.decode()
    assert reconcile_check(unpaid_after_days=0).ok
    assert (
        finance_client.post(f"/admin/donations/offlinegift/{offline.pk}/delete/").status_code == 403
    )


def test_matching_offline_gifts_follows_the_setting(
    finance_client: Client, project: Project, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.OFFLINE_GIFTS_MATCHED = False
    _pool(project)
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(ADD, _gift(project, donor_email=""))
    totals = FundingTotals.objects.get(project=project)
    assert (totals.raised.amount, totals.matched.amount) == (Decimal("250.00"), 0)
    assert mail.outbox == []  # no email, no receipt


def test_bad_offline_gifts_are_refused_with_a_reason(
    finance_client: Client, project: Project
) -> None:
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    for overrides, message in [
        ({"amount": "0"}, "Ensure this value is greater than or equal to"),
        ({"currency": "EUR"}, "counts in USD: record the gift in USD"),
        ({"received_on": tomorrow}, "in the future"),
        ({"method": "bitcoin"}, "Select a valid choice"),
        ({"amount": "1.005"}, "at most 2 decimals"),
    ]:
        response = finance_client.post(ADD, _gift(project, **overrides))
        assert response.status_code == 400, overrides
        assert message in response.content.decode(), overrides
    assert not Donation.objects.exists()


def test_a_batch_closes_only_when_count_and_total_agree(
    finance_client: Client, project: Project, django_capture_on_commit_callbacks: Any
) -> None:
    response = finance_client.post(
        "/admin/donations/offlinebatch/add/",
        {
            "name": "Paying-in slip 42",
            "expected_count": "2",
            "expected_total_0": "300",
            "expected_total_1": "USD",
            "note": "",
            "gifts-TOTAL_FORMS": "0",
            "gifts-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    batch = OfflineBatch.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(ADD, _gift(project, amount="100", batch=batch.pk))
    close = f"/admin/donations/offlinebatch/{batch.pk}/close/"
    response = finance_client.post(close, follow=True)
    assert (
        "cannot close: it has 1 gift(s), 2 expected; they total 100.00 USD, 300.00 expected"
        in response.content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(ADD, _gift(project, amount="150", batch=batch.pk, reference="CHQ 2"))
    response = finance_client.post(close, follow=True)
    assert "they total 250.00 USD, 300.00 expected" in response.content.decode()
    mistaken = OfflineGift.objects.get(reference="CHQ 2")
    finance_client.post(
        f"/admin/donations/offlinegift/{mistaken.pk}/void/", {"reason": "wrong amount"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(ADD, _gift(project, amount="200", batch=batch.pk, reference="CHQ 2b"))
    response = finance_client.post(close, follow=True)
    assert "Batch Paying-in slip 42 closed" in response.content.decode()
    batch.refresh_from_db()
    assert batch.closed_at is not None
    late = finance_client.post(ADD, _gift(project, amount="5", batch=batch.pk))
    assert late.status_code == 400  # a closed batch takes no more gifts
    assert FinanceAction.objects.filter(kind="batch_close").count() == 1
    assert FundingTotals.objects.get(project=project).raised.amount == Decimal("300.00")


def test_an_editor_cannot_record_offline_gifts(editor_client: Client, project: Project) -> None:
    assert editor_client.get(ADD).status_code == 403
    assert editor_client.post(ADD, _gift(project)).status_code == 403
    assert editor_client.get("/admin/donations/offlinebatch/").status_code == 403
    assert not Donation.objects.exists()
