"""The factories' defaults are what the tests built by hand (tests/factories.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from djmoney.money import Money

from donations.models import Donation
from projects.models import FundingTotals, Project
from tests.factories import (
    DonationFactory,
    EditorFactory,
    FinanceStaffFactory,
    MatchingPoolFactory,
    ProjectFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


def test_a_project_is_published_with_totals_in_its_currency() -> None:
    project = ProjectFactory.create(cost=Money(Decimal("1000"), "EUR"))
    assert project.status == Project.Status.PUBLISHED and project.published_at is not None
    totals = FundingTotals.objects.get(project=project)
    assert totals.raised == Money(0, "EUR") and totals.matched == Money(0, "EUR")
    draft = ProjectFactory.create(status=Project.Status.DRAFT)
    assert draft.published_at is None and draft.slug != project.slug


def test_gifts_pending_or_succeeded_in_the_projects_currency() -> None:
    project = ProjectFactory.create(cost=Money(Decimal("1000"), "EUR"))
    pending = DonationFactory.create(project=project)
    assert pending.status == Donation.Status.PENDING and pending.counted == 0
    assert pending.amount == Money(Decimal("50"), "EUR") and pending.refunded == Money(0, "EUR")
    done = DonationFactory.create(
        project=project, amount=Money(Decimal("12.34"), "EUR"), succeeded=True
    )
    assert done.status == Donation.Status.SUCCEEDED and done.succeeded_at is not None
    assert done.counted == Decimal("12.34")
    assert done.donor_email != pending.donor_email


def test_a_pool_covers_the_projects_it_is_given() -> None:
    project = ProjectFactory.create()
    pool = MatchingPoolFactory.create(projects=[project])
    assert list(pool.projects.all()) == [project]
    assert pool.starts_at < pool.ends_at and pool.allocated == 0


def test_staff_are_in_their_groups_and_can_sign_in() -> None:
    editor, finance = EditorFactory.create(), FinanceStaffFactory.create()
    assert [g.name for g in editor.groups.all()] == ["Editors"]
    assert [g.name for g in finance.groups.all()] == ["Finance"]
    assert finance.has_perm("donations.export_finance") and not editor.has_perm(
        "donations.export_finance"
    )
    boss = StaffFactory.create(superuser=True, password="boss-pass-1")
    assert boss.is_superuser and boss.is_staff and boss.check_password("boss-pass-1")
    with pytest.raises(Group.DoesNotExist):
        StaffFactory.create(groups=["No such group"])
