"""factory_boy factories for the test data the suite used to build by hand.

Defaults are a valid, ordinary row: a published USD project with its funding totals, a
pending $50 gift from a donor no other gift shares, an open 2X pool, a paid payout. Money is
always ``Money(Decimal, currency)``, never a float. Tests name only what they assert about.

    ProjectFactory.create(cost=Money(Decimal("1000"), "EUR"))   # its totals are in EUR too
    DonationFactory.create(project=p, succeeded=True)           # counted and dated as succeeded
    MatchingPoolFactory.create(projects=[p], cap=Money(Decimal("75"), "USD"))
    EditorFactory.create(), FinanceStaffFactory.create(), StaffFactory.create(superuser=True)

``.create()`` rather than calling the class: mypy then knows it returns the model.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone
from djmoney.money import Money
from factory.django import DjangoModelFactory

from donations.models import Donation, MatchingPool, Payout, PayoutLine, WebhookEvent
from projects.models import FundingTotals, KeySpecies, Project, Section, Threat

# --- Projects -------------------------------------------------------------------------------


class FundingTotalsFactory(DjangoModelFactory[FundingTotals]):
    """A project's totals row at zero in its own currency. ProjectFactory makes one; pass
    ``project`` when making one for a project built another way."""

    class Meta:
        model = FundingTotals

    raised = factory.LazyAttribute(lambda o: Money(Decimal(0), o.project.currency))
    matched = factory.LazyAttribute(lambda o: Money(Decimal(0), o.project.currency))


class ProjectFactory(DjangoModelFactory[Project]):
    """A published project (published by ``Project.publish()``, as the admin does) with its
    FundingTotals row. ``status=Project.Status.DRAFT`` (or ARCHIVED) leaves it unpublished."""

    class Meta:
        model = Project
        skip_postgeneration_save = True

    class Params:
        # Numbered by the projects already in the database, as the make_project fixture always
        # did: a test's projects are Forest 1, Forest 2, ... whatever other tests made.
        number = factory.LazyFunction(lambda: Project.objects.count() + 1)

    title = factory.LazyAttribute(lambda o: f"Forest {o.number}")
    slug = factory.LazyAttribute(lambda o: f"forest-{o.number}")
    status = Project.Status.PUBLISHED
    summary = "A forest worth protecting.\n\nSecond paragraph."
    place = "Valley"
    country = "Peru"
    cost = Money(Decimal("303600"), "USD")
    acres = Decimal("285288")
    totals = factory.RelatedFactory(FundingTotalsFactory, factory_related_name="project")

    @classmethod
    def _build(cls, model_class: type[Project], *args: Any, **kwargs: Any) -> Project:
        assert not args, "a project is built from keyword arguments only"
        project = model_class(**kwargs)
        if project.status == Project.Status.PUBLISHED:
            project.publish()  # sets published_at, as publishing from the admin does
        return project

    @classmethod
    def _create(cls, model_class: type[Project], *args: Any, **kwargs: Any) -> Project:
        project = cls._build(model_class, *args, **kwargs)
        project.save()
        return project


class KeySpeciesFactory(DjangoModelFactory[KeySpecies]):
    class Meta:
        model = KeySpecies

    project = factory.SubFactory(ProjectFactory)
    common_name = "Andean Cat"
    iucn_category = "EN"


class ThreatFactory(DjangoModelFactory[Threat]):
    class Meta:
        model = Threat

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Threat {n}")


class SectionFactory(DjangoModelFactory[Section]):
    """A section; its body is sanitised on save like any other."""

    class Meta:
        model = Section

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Section {n}")
    body = "<p>Body.</p>"


# --- Donations ------------------------------------------------------------------------------


class DonationFactory(DjangoModelFactory[Donation]):
    """A pending one-time $50 gift (in the project's currency) as donation_start leaves it
    before the Checkout Session exists. Traits for the states tests set by hand:
    ``succeeded`` (counted in full, succeeded now) and ``failed``.

    These rows skip the lifecycle: nothing moves the project's totals, the ledger or a pool.
    A test that needs those drives the gift through the lifecycle services instead
    (tests/donations/matching_helpers.py, tests/donations/event_helpers.py)."""

    class Meta:
        model = Donation

    class Params:
        succeeded = factory.Trait(
            status=Donation.Status.SUCCEEDED,
            counted=factory.LazyAttribute(lambda o: o.amount.amount),
            succeeded_at=factory.LazyFunction(timezone.now),
        )
        failed = factory.Trait(
            status=Donation.Status.FAILED,
            failed_at=factory.LazyFunction(timezone.now),
        )

    project = factory.SubFactory(ProjectFactory)
    amount = factory.LazyAttribute(lambda o: Money(Decimal("50"), o.project.currency))
    donor_name = factory.Sequence(lambda n: f"Donor {n}")
    # A domain of its own: never the address of a gift a test made another way.
    donor_email = factory.Sequence(lambda n: f"donor{n}@factory.example.org")


class MatchingPoolFactory(DjangoModelFactory[MatchingPool]):
    """An open 2X (1:1) pool of $1,000 from yesterday to a month ahead. ``projects=[...]``
    adds the projects it covers."""

    class Meta:
        model = MatchingPool
        skip_postgeneration_save = True  # MatchingPool.save never writes `allocated` again

    sponsor_name = "Sponsor"
    cap = Money(Decimal("1000"), "USD")
    ratio = Decimal(1)
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))

    @factory.post_generation
    def projects(self, create: bool, extracted: Iterable[Project] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.projects.add(*extracted)


class PayoutFactory(DjangoModelFactory[Payout]):
    """A paid payout with no lines yet (lines_status AWAITING, as before its task ran)."""

    class Meta:
        model = Payout

    stripe_id = factory.Sequence(lambda n: f"po_factory_{n}")
    amount = Money(Decimal("1"), "USD")
    status = Payout.Status.PAID


class PayoutLineFactory(DjangoModelFactory[PayoutLine]):
    """One balance transaction of a payout: a charge with no fee, in the payout's currency."""

    class Meta:
        model = PayoutLine

    payout = factory.SubFactory(PayoutFactory)
    balance_transaction_id = factory.Sequence(lambda n: f"txn_factory_{n}")
    type = "charge"
    amount = Decimal("1")
    fee = Decimal(0)
    net = factory.LazyAttribute(lambda o: o.amount - o.fee)
    currency = factory.LazyAttribute(lambda o: str(o.payout.amount.currency).lower())


class WebhookEventFactory(DjangoModelFactory[WebhookEvent]):
    """A stored, unprocessed event as the endpoint's inbox writes it."""

    class Meta:
        model = WebhookEvent

    stripe_id = factory.Sequence(lambda n: f"evt_factory_{n}")
    type = "charge.succeeded"
    payload = factory.LazyAttribute(lambda o: {"id": o.stripe_id, "type": o.type})


# --- Staff ----------------------------------------------------------------------------------

STAFF_PASSWORD = "a-staff-pass-4410"


def _groups_added(default: tuple[str, ...]) -> Any:
    """Adds the staff groups (campaign/groups.py) by name; ``groups=[...]`` chooses others.
    A group that does not exist is an error, not a user silently without permissions."""

    def add(user: User, create: bool, extracted: Iterable[str] | None, **kwargs: Any) -> None:
        if create:
            names = default if extracted is None else tuple(extracted)
            user.groups.add(*(Group.objects.get(name=name) for name in names))

    return factory.PostGeneration(add)


class StaffFactory(DjangoModelFactory[User]):
    """A staff user in no group, password STAFF_PASSWORD (or ``password=...``) so a test can
    sign in through the admin's login form. ``superuser=True`` for a superuser."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    class Params:
        superuser = factory.Trait(is_superuser=True)

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    # Hashed with the hasher configured when the user is made (tests pick a fast one).
    password = factory.django.Password(STAFF_PASSWORD)
    is_staff = True
    groups = _groups_added(())


class EditorFactory(StaffFactory):
    """Staff in the Editors group: project pages, nothing about money."""

    username = factory.Sequence(lambda n: f"editor{n}")
    groups = _groups_added(("Editors",))


class FinanceStaffFactory(StaffFactory):
    """Staff in the Finance group: the finance desk."""

    username = factory.Sequence(lambda n: f"finance{n}")
    groups = _groups_added(("Finance",))
