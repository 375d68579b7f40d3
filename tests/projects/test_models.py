from decimal import Decimal

from djmoney.money import Money

from projects.models import Project


def test_price_per_acre_is_cost_over_acres(project: Project) -> None:
    assert project.computed_price_per_acre == Money(Decimal("1.06"), "USD")
    assert project.price_per_acre == Money(Decimal("1.06"), "USD")


def test_override_wins_and_reports_its_deviation(project: Project) -> None:
    project.price_per_acre_override = Money(Decimal("1.17"), "USD")
    assert project.price_per_acre == Money(Decimal("1.17"), "USD")
    # 1.17 against 303,600 / 285,288 = 1.0642 is about 9.9 % apart: above the 5 % warning line.
    deviation = project.price_override_deviation
    assert deviation is not None and Decimal("0.09") < deviation < Decimal("0.10")


def test_gift_to_acres_uses_the_real_ratio(project: Project) -> None:
    assert project.acres_for(Decimal("50")) == Decimal("47")
    assert project.acres_for(Decimal("5")) == Decimal("4.7")
    assert project.acres_for(Decimal("303600")) == Decimal("285288")
