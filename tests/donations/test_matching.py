from __future__ import annotations

import importlib
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone
from djmoney.money import Money

from donations.models import Donation, MatchAllocation, MatchingPool
from projects.models import FundingTotals
from tests.donations.matching_helpers import (
    dispute,
    gift,
    ledger_sum,
    live_match,
    pool_open,
    refund,
    succeed,
)
from tests.factories import DonationFactory, StaffFactory

pytestmark = pytest.mark.django_db


def fresh_donation(d: Donation) -> Donation:
    return Donation.objects.get(pk=d.pk)


def totals(project: Any) -> FundingTotals:
    return FundingTotals.objects.get(project=project)


def test_gifts_are_matched_until_the_pool_runs_dry(project: Any) -> None:
    pool = pool_open(project, cap="100")
    first, second, third = gift(project, "30"), gift(project, "80"), gift(project, "10")
    for d in (first, second, third):
        succeed(d)
    assert [live_match(d) for d in (first, second, third)] == [30, 70, 0]  # partial, then none
    pool.refresh_from_db()
    assert pool.allocated == pool.cap.amount == ledger_sum(pool) == 100
    assert totals(project).matched.amount == 100
    assert totals(project).raised.amount == 120


def test_ratio_two_is_three_x(project: Any) -> None:
    pool_open(project, cap="1000", ratio="2")
    d = gift(project, "50")
    succeed(d)
    assert live_match(d) == 100
    assert MatchingPool.objects.get().multiplier_label == "3X"


def test_replayed_success_does_not_match_twice(project: Any) -> None:
    pool = pool_open(project, cap="1000")
    d = gift(project, "50")
    succeed(d)
    succeed(d)
    assert MatchAllocation.objects.filter(donation=d).count() == 1
    pool.refresh_from_db()
    assert pool.allocated == 50


def test_database_refuses_a_second_match_for_the_same_gift(project: Any) -> None:
    pool = pool_open(project, cap="1000")
    d = gift(project, "50")
    succeed(d)
    with pytest.raises(IntegrityError), transaction.atomic():
        MatchAllocation.objects.create(pool=pool, donation=d, kind="allocate", amount=1)


def test_database_refuses_over_allocation(project: Any) -> None:
    pool = pool_open(project, cap="10")
    with pytest.raises(IntegrityError), transaction.atomic():
        MatchingPool.objects.filter(pk=pool.pk).update(allocated=Decimal("10.01"))


def test_partial_refund_reverses_its_share_and_returns_it_to_the_pool(project: Any) -> None:
    pool = pool_open(project, cap="1000")
    d = gift(project, "40")
    succeed(d)
    refund(d, Decimal("10"))
    assert live_match(d) == 30
    kinds = list(MatchAllocation.objects.filter(donation=d).values_list("kind", "amount"))
    assert kinds == [("allocate", Decimal("40.00")), ("reverse", Decimal("-10.00"))]
    refund(d, Decimal("10"))  # the same refund seen again changes nothing
    assert MatchAllocation.objects.filter(donation=d).count() == 2
    refund(d, Decimal("40"))
    assert live_match(d) == 0
    pool.refresh_from_db()
    assert pool.allocated == 0 and pool.remaining == 1000
    assert totals(project).matched.amount == 0 and totals(project).raised.amount == 0


def test_dispute_lost_reverses_and_won_restores(project: Any) -> None:
    pool = pool_open(project, cap="1000")
    won, lost = gift(project, "20"), gift(project, "30")
    for d in (won, lost):
        succeed(d)
        dispute(d, "needs_response")
    assert live_match(won) == live_match(lost) == 0
    assert totals(project).matched.amount == 0
    dispute(won, "won")
    dispute(lost, "lost")
    assert live_match(won) == 20 and live_match(lost) == 0
    pool.refresh_from_db()
    assert pool.allocated == 20 == ledger_sum(pool)
    assert totals(project).matched.amount == 20 and totals(project).raised.amount == 20
    # Rows are only ever added: allocate, reverse, restore for the won gift.
    assert list(MatchAllocation.objects.filter(donation=won).values_list("kind", flat=True)) == [
        "allocate",
        "reverse",
        "restore",
    ]


def test_pools_are_used_in_order_of_ending_first(project: Any, make_project: Any) -> None:
    later = pool_open(project, cap="1000", sponsor_name="Later")
    sooner = pool_open(
        project, cap="30", sponsor_name="Sooner", ends_at=timezone.now() + timedelta(days=2)
    )
    d = gift(project, "50")
    succeed(d)
    by_pool = dict(
        MatchAllocation.objects.filter(donation=d).values_list("pool__sponsor_name", "amount")
    )
    assert by_pool == {"Sooner": Decimal("30.00"), "Later": Decimal("20.00")}
    sooner.refresh_from_db()
    later.refresh_from_db()
    assert sooner.remaining == 0 and later.allocated == 20


def test_pool_outside_its_window_or_other_project_does_not_match(
    project: Any, make_project: Any
) -> None:
    other = make_project()
    pool_open(other, cap="1000")
    pool_open(
        project,
        cap="1000",
        starts_at=timezone.now() + timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=2),
    )
    pool_open(project, cap="1000", active=False)
    d = gift(project, "50")
    succeed(d)
    assert live_match(d) == 0


def test_all_projects_pool_matches_any_project(make_project: Any) -> None:
    a, b = make_project(), make_project()
    pool_open(None, cap="1000", covers_all_projects=True)
    da, db_ = gift(a, "10"), gift(b, "20")
    succeed(da)
    succeed(db_)
    assert (live_match(da), live_match(db_)) == (10, 20)


@pytest.mark.parametrize("every", [False, True])
def test_monthly_instalments_follow_the_setting(project: Any, settings: Any, every: bool) -> None:
    settings.DONATION_MATCH_EVERY_INSTALMENT = every
    pool_open(project, cap="1000")
    plan = gift(project, "25", frequency="monthly")
    succeed(plan)
    instalment = gift(project, "25", frequency="monthly", parent=plan)
    succeed(instalment)
    assert live_match(plan) == 25
    assert live_match(instalment) == (25 if every else 0)


def test_an_instalment_left_unmatched_stays_so_when_the_setting_changes(
    project: Any, settings: Any
) -> None:
    settings.DONATION_MATCH_EVERY_INSTALMENT = False
    pool_open(project, cap="1000")
    plan = gift(project, "20", frequency="monthly")
    succeed(plan)
    instalment = gift(project, "20", frequency="monthly", parent=plan)
    succeed(instalment)
    assert live_match(instalment) == 0
    settings.DONATION_MATCH_EVERY_INSTALMENT = True  # applies to instalments from now on
    refund(instalment, Decimal("5"))
    assert live_match(instalment) == 0
    later = gift(project, "20", frequency="monthly", parent=plan)
    succeed(later)
    assert live_match(later) == 20


def test_migration_marks_every_succeeded_gift_as_decided(project: Any) -> None:
    """Gifts from before match_decided_at existed: the backfill marks those whose pools were
    consulted, including one that found the pool dry and is now in an open dispute, so a
    won dispute after the upgrade cannot take money that came back to the pool."""
    backfill = importlib.import_module("donations.migrations.0007_match_decided_at").backfill
    pool = pool_open(project, cap="10")
    first, dry = gift(project, "10"), gift(project, "40")
    succeed(first)
    succeed(dry)
    dispute(dry, "needs_response")
    foreign = DonationFactory.create(project=project, amount=Money(Decimal(30), "EUR"))
    succeed(foreign)  # no settlement yet: provisional, its pools not consulted
    pending = gift(project, "5")
    Donation.objects.update(match_decided_at=None)  # as before the migration
    backfill(django_apps, None)
    decided = set(
        Donation.objects.filter(match_decided_at__isnull=False).values_list("pk", flat=True)
    )
    assert decided == {first.pk, dry.pk}
    assert not fresh_donation(foreign).counted and fresh_donation(foreign).counted_provisional
    refund(first, Decimal("10"))
    dispute(dry, "won")
    assert live_match(dry) == 0
    pool.refresh_from_db()
    assert pool.allocated == ledger_sum(pool) == 0
    assert pending.pk not in decided


def test_page_shows_banner_doubled_amounts_and_matched_share(client: Client, project: Any) -> None:
    pool_open(project, cap="75", sponsor_name="Andes Fund")
    page = client.get(project.get_absolute_url()).content.decode()
    assert "2X The Impact" in page and "Andes Fund" in page and "$75" in page
    assert "becomes $50" in page  # the $25 preset
    assert "becomes $175" in page  # $100 preset: only $75 of match left, a partial match
    d = gift(project, "50")
    succeed(d)
    page = client.get(project.get_absolute_url()).content.decode()
    assert "$25</strong> of matching funds remain" in page
    assert "$50 from donors</span> and" in page and "$50</span> matched" in page
    d2 = gift(project, "25")
    succeed(d2)
    page = client.get(project.get_absolute_url()).content.decode()
    assert "The Impact" not in page  # spent: the banner goes away on its own


def test_banner_goes_away_when_the_pool_ends(client: Client, project: Any) -> None:
    pool = pool_open(project, cap="75")
    assert "2X The Impact" in client.get(project.get_absolute_url()).content.decode()
    MatchingPool.objects.filter(pk=pool.pk).update(
        starts_at=timezone.now() - timedelta(days=3), ends_at=timezone.now() - timedelta(days=1)
    )
    assert "The Impact" not in client.get(project.get_absolute_url()).content.decode()


def test_thank_you_page_and_receipt_name_the_match(
    client: Client, project: Any, mailoutbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pool_open(project, cap="1000", sponsor_name="Andes Fund")
    d = gift(project, "40")
    with django_capture_on_commit_callbacks(execute=True):
        succeed(d)
    page = client.get(f"/donations/{d.pk}/thanks/").content.decode()
    assert "+$40 from Andes Fund" in page
    assert len(mailoutbox) == 1 and "Matched by Andes Fund: $40" in mailoutbox[0].body


def _staff(group: str | None) -> Client:
    user = StaffFactory.create(groups=[group] if group else [])
    c = Client()
    c.force_login(user)
    return c


def test_only_finance_may_create_pools(project: Any) -> None:
    assert _staff("Editors").get("/admin/donations/matchingpool/add/").status_code == 403
    finance = _staff("Finance")
    form = finance.get("/admin/donations/matchingpool/add/")
    assert form.status_code == 200
    now = timezone.now()
    data = {
        "sponsor_name": "Bad pool",
        "show_sponsor": "on",
        "cap_0": "-5",
        "cap_1": "USD",
        "ratio": "0",
        "starts_at_0": now.strftime("%Y-%m-%d"),
        "starts_at_1": "10:00:00",
        "ends_at_0": (now - timedelta(days=2)).strftime("%Y-%m-%d"),
        "ends_at_1": "10:00:00",
        "projects": [project.pk],
        "active": "on",
        "allocations-TOTAL_FORMS": "0",
        "allocations-INITIAL_FORMS": "0",
    }
    response = finance.post("/admin/donations/matchingpool/add/", data)
    assert response.status_code == 200
    text = response.content.decode()
    assert "The cap must be more than zero." in text
    assert "The ratio must be more than zero" in text
    assert "The end must be after the start." in text
    eur = finance.post(
        "/admin/donations/matchingpool/add/",
        {
            **data,
            "cap_0": "100",
            "cap_1": "EUR",
            "ratio": "1",
            "ends_at_0": (now + timedelta(days=2)).strftime("%Y-%m-%d"),
        },
    )
    assert "These projects are not in EUR" in eur.content.decode()
    assert not MatchingPool.objects.exists()
    ok = finance.post(
        "/admin/donations/matchingpool/add/",
        {
            **data,
            "cap_0": "100",
            "ratio": "1",
            "ends_at_0": (now + timedelta(days=2)).strftime("%Y-%m-%d"),
        },
    )
    assert ok.status_code == 302, ok.content.decode()[:3000]
    pool = MatchingPool.objects.get()
    assert pool.cap == Money(100, "USD")
    changelist = finance.get("/admin/donations/matchingpool/").content.decode()
    assert "Gifts matched" in changelist and "Remaining" in changelist


def test_refund_heard_of_with_the_success_matches_as_if_it_came_after(project: Any) -> None:
    """Events arrive in any order: a charge that is already half refunded when we first
    hear of it gets the same match as a gift refunded after it was matched, and replays
    change nothing."""
    pool = pool_open(project, cap="1000")
    late, in_order = gift(project, "100"), gift(project, "100")
    refund(late, Decimal("50"))  # first event already shows the refund
    succeed(in_order)
    refund(in_order, Decimal("50"))
    assert live_match(late) == live_match(in_order) == 50
    refund(late, Decimal("50"))  # replay
    succeed(late)  # the late checkout.session.completed: Stripe still reports the refund
    assert live_match(late) == 50
    pool.refresh_from_db()
    assert pool.allocated == ledger_sum(pool) == 100
    assert totals(project).matched.amount == 100
    assert totals(project).raised.amount == 100


def test_gift_that_found_the_pool_dry_is_not_matched_when_money_returns(project: Any) -> None:
    pool = pool_open(project, cap="10")
    first, second = gift(project, "10"), gift(project, "40")
    succeed(first)
    succeed(second)
    assert (live_match(first), live_match(second)) == (10, 0)
    refund(first, Decimal("10"))  # the match goes back to the pool...
    refund(second, Decimal("5"))  # ...and a later event on the unmatched gift does not take it
    succeed(second)
    assert live_match(second) == 0
    pool.refresh_from_db()
    assert pool.allocated == ledger_sum(pool) == 0
    assert totals(project).matched.amount == 0


def test_a_stale_copy_of_a_pool_saved_later_keeps_the_matches_made_since(project: Any) -> None:
    """The admin (or a script) saving a pool it loaded before a gift was matched must not
    write the old running total back: that would let the pool give past its cap."""
    pool = pool_open(project, cap="100")
    stale = MatchingPool.objects.get(pk=pool.pk)
    succeed(gift(project, "60"))
    stale.sponsor_name = "Renamed"
    stale.save()
    pool.refresh_from_db()
    assert pool.sponsor_name == "Renamed"
    assert pool.allocated == ledger_sum(pool) == 60
    second = gift(project, "100")
    succeed(second)
    assert live_match(second) == 40  # only what is left of the cap
    pool.refresh_from_db()
    assert pool.allocated == ledger_sum(pool) == 100


def test_finance_cannot_lower_a_cap_below_what_is_matched(project: Any) -> None:
    pool = pool_open(project, cap="100")
    succeed(gift(project, "60"))
    finance = _staff("Finance")
    url = f"/admin/donations/matchingpool/{pool.pk}/change/"
    assert finance.get(url).status_code == 200
    data = {
        "sponsor_name": pool.sponsor_name,
        "show_sponsor": "on",
        "cap_0": "50",
        "cap_1": "USD",
        "ratio": "1",
        "starts_at_0": pool.starts_at.strftime("%Y-%m-%d"),
        "starts_at_1": pool.starts_at.strftime("%H:%M:%S"),
        "ends_at_0": pool.ends_at.strftime("%Y-%m-%d"),
        "ends_at_1": pool.ends_at.strftime("%H:%M:%S"),
        "projects": [project.pk],
        "active": "on",
        "allocations-TOTAL_FORMS": "1",
        "allocations-INITIAL_FORMS": "1",
    }
    response = finance.post(url, data)
    assert response.status_code == 200
    assert "60.00 is already allocated from this pool." in response.content.decode()
    ok = finance.post(url, {**data, "cap_0": "80"})
    assert ok.status_code == 302, ok.content.decode()[:2000]
    pool.refresh_from_db()
    assert pool.cap == Money(80, "USD") and pool.allocated == ledger_sum(pool) == 60
