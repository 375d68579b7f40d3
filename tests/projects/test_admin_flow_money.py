"""In the project admin, money is Finance's: the cost's currency is fixed once money is
counted in it, and only Finance changes the money figures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from djmoney.money import Money

from donations.models import Donation, MatchingPool
from projects.models import FundingTotals, Project
from tests.projects.admin_flow_helpers import change_form
from tests.projects.conftest import admin_form_data, form_errors

# --- The cost's currency is fixed once money is counted in it --------------------------------

CURRENCY_LOCKED = "The currency cannot change once the project has gifts or matching pools."


def _pool(*, covers_all_projects: bool = False) -> MatchingPool:
    now = timezone.now()
    return MatchingPool.objects.create(
        sponsor_name="Sponsor",
        cap=Money(1000, "USD"),
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=30),
        covers_all_projects=covers_all_projects,
    )


def _gift(project: Project) -> None:
    # Any gift counts, even one still pending: its amount is already in the project's currency.
    Donation.objects.create(
        project=project,
        amount=Money(50, "USD"),
        donor_name="Ana",
        donor_email="ana@example.org",
        status=Donation.Status.PENDING,
    )


def _covered_by_pool(project: Project) -> None:
    _pool().projects.add(project)


def _totals_not_zero(project: Project) -> None:
    # Totals carried over from elsewhere (say an import), without gift rows here.
    FundingTotals.objects.filter(project=project).update(matched=Decimal("25"))


def _post_cost(client: Client, project: Project, amount: str, currency: str) -> tuple[int, str]:
    url = f"/admin/projects/project/{project.pk}/change/"
    data = change_form(client, project)
    assert (data["cost_0"], data["cost_1"]) == ("303600.00", "USD")
    data.update({"cost_0": amount, "cost_1": currency})
    response = client.post(url, data)
    return response.status_code, response.content.decode()


@pytest.mark.parametrize(
    "money_in_usd",
    [_gift, _covered_by_pool, _totals_not_zero],
    ids=["gift", "matching-pool", "totals"],
)
def test_currency_cannot_change_once_money_is_counted_in_it(
    finance_client: Client, project: Project, money_in_usd: Callable[[Project], None]
) -> None:
    money_in_usd(project)

    status, html = _post_cost(finance_client, project, "303600", "EUR")
    assert status == 200
    assert CURRENCY_LOCKED in form_errors(html)
    project.refresh_from_db()
    assert project.cost == Money(Decimal("303600"), "USD")

    # Changing amount and currency together is refused the same way.
    status, html = _post_cost(finance_client, project, "400000", "EUR")
    assert status == 200 and CURRENCY_LOCKED in form_errors(html)
    project.refresh_from_db()
    assert project.cost == Money(Decimal("303600"), "USD")

    # The amount alone may still change.
    status, html = _post_cost(finance_client, project, "400000", "USD")
    assert status == 302, form_errors(html)
    project.refresh_from_db()
    assert project.cost == Money(Decimal("400000"), "USD")


def test_currency_may_change_before_any_money(finance_client: Client, project: Project) -> None:
    # A pool for every project matches only projects in its own currency: it does not fix
    # the currency of a project it has not matched a gift to.
    _pool(covers_all_projects=True)

    status, html = _post_cost(finance_client, project, "280000", "EUR")
    assert status == 302, form_errors(html)
    project.refresh_from_db()
    assert project.cost == Money(Decimal("280000"), "EUR")


# --- Money figures are Finance's -------------------------------------------------------------


def test_editor_cannot_change_money_figures(editor_client: Client, project: Project) -> None:
    """The audit's case: an Editor posted cost_0=1.00 and the public page said "Funded!"."""
    Donation.objects.create(
        project=project,
        amount=Money(50, "USD"),
        donor_name="Ana",
        donor_email="ana@example.org",
        status=Donation.Status.SUCCEEDED,
    )
    FundingTotals.objects.filter(project=project).update(raised=Decimal("50"))
    url = f"/admin/projects/project/{project.pk}/change/"
    page = editor_client.get(url).content.decode()
    data = admin_form_data(page)
    for field in ["cost_0", "cost_1", "acres", "price_per_acre_override_0", "after_goal"]:
        assert field not in data, field  # shown, not editable
    assert "$303,600.00" in page or "303,600" in page
    data.update(
        {
            "cost_0": "1.00",
            "cost_1": "USD",
            "acres": "1",
            "price_per_acre_override_0": "0.01",
            "price_per_acre_override_1": "USD",
            "after_goal": Project.AfterGoal.CLOSE_FORM,
            "summary_en": "A new summary by the editor.",
        }
    )
    response = editor_client.post(url, data)
    assert response.status_code == 302, form_errors(response.content.decode())
    project.refresh_from_db()
    assert project.summary == "A new summary by the editor."  # everything else is theirs
    assert project.cost == Money(Decimal("303600"), "USD")
    assert project.acres == Decimal("285288")
    assert project.price_per_acre_override is None
    assert project.after_goal == Project.AfterGoal.KEEP_ACCEPTING
    public = Client().get(project.get_absolute_url()).content.decode()
    assert "Funded!" not in public


def test_finance_changes_money_figures(finance_client: Client, project: Project) -> None:
    url = f"/admin/projects/project/{project.pk}/change/"
    data = admin_form_data(finance_client.get(url).content.decode())
    data.update({"cost_0": "320000", "acres": "290000", "after_goal": "close"})
    response = finance_client.post(url, data)
    assert response.status_code == 302, form_errors(response.content.decode())
    project.refresh_from_db()
    assert project.cost == Money(Decimal("320000"), "USD")
    assert project.acres == Decimal("290000")
    assert project.after_goal == Project.AfterGoal.CLOSE_FORM
