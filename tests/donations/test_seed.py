"""The SQL seeders for load tests and benchmarks (donations/services/seed.py): rows the ORM
reads back whole, every column at the model's default unless computed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from djmoney.money import Money

from donations.history_models import DonationHistory
from donations.models import Donation
from donations.services.seed import donation_insert_sql, gifts_seed
from projects.models import FundingTotals


@pytest.mark.django_db
def test_computed_amounts_get_their_currency_and_the_rest_their_defaults(
    make_project: Any,
) -> None:
    project = make_project()
    sql, params = donation_insert_sql(
        {
            "id": "md5(i::text)::uuid",
            "project_id": str(int(project.pk)),
            "status": "'succeeded'",
            "amount": "50",
            "settled": "48.25",  # a nullable money column: its currency must not stay NULL
            "created_at": "now()",
            "updated_at": "now()",
        },
        "generate_series(1, %s) AS i",
    )
    with connection.cursor() as cur:
        cur.execute(sql, [*params, 3])
    gifts = list(Donation.objects.filter(project=project))  # the admin's list reads them so
    assert len(gifts) == 3
    for gift in gifts:
        assert gift.amount == Money(50, "USD") and gift.settled == Money(Decimal("48.25"), "USD")
        assert gift.stripe_fee is None or gift.stripe_fee.currency.code == "USD"
        assert gift.referral_channel == "" and gift.language == "en"


@pytest.mark.django_db
def test_gifts_seed_moves_the_totals_and_writes_no_history(make_project: Any) -> None:
    project = make_project()
    before = DonationHistory.objects.count()
    total = gifts_seed(project, 500, tag="t")
    assert Donation.objects.filter(project=project, status="succeeded").count() == 500
    totals = FundingTotals.objects.get(project=project)
    assert totals.gift_count == 500 and totals.raised.amount == total
    assert DonationHistory.objects.count() == before  # load-test rows: no money history


def test_a_column_that_needs_a_value_per_row_must_be_computed() -> None:
    with pytest.raises(ValueError, match="compute id"):
        donation_insert_sql({"project_id": "1"}, "generate_series(1, 2) AS i")
    with pytest.raises(ValueError, match="placeholders"):
        donation_insert_sql({"id": "gen_random_uuid()", "amount": "%s"}, "x")


@pytest.mark.django_db
def test_a_project_in_another_currency_gets_gifts_in_it(make_project: Any) -> None:
    project = make_project()
    sql, params = donation_insert_sql(
        {
            "id": "gen_random_uuid()",
            "project_id": str(int(project.pk)),
            "amount": "40",
            "created_at": "now()",
            "updated_at": "now()",
        },
        "generate_series(1, 2) AS i",
        currency="PEN",
    )
    with connection.cursor() as cur:
        cur.execute(sql, params)
    assert {str(d.amount) for d in Donation.objects.filter(project=project)} == {"PEN40.00"}
