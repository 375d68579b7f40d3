"""Many succeeded gifts in one SQL statement, for load tests, benchmarks and the query-plan
tests (a million in a few minutes on a 2-core box, most of it building the indexes; the ORM
would take hours). The money-history trigger is skipped for these rows.

Each row copies a template gift made through the ORM, so every column, including ones added
later, gets the model's own default; only the identifying and varying columns are generated.
The project's totals move by the sum in the same transaction. PostgreSQL only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pgtrigger
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from djmoney.models.fields import CurrencyField
from djmoney.money import Money

from donations.models import Donation
from projects.models import FundingTotals, Project

HISTORY_INSERT_TRIGGER = "donations.Donation:insert_insert"
FIRST_NAMES = ["Ana", "Bruno", "Carla", "Diego", "Elena", "Farid", "Grace", "Hiro", "Inés", "Jon"]


def gifts_seed(project: Project, count: int, *, tag: str = "seed") -> Decimal:
    """Insert ``count`` succeeded one-time gifts to ``project`` (amounts 10 to 209, one a
    second back from now, donors ``<first name> <tag><n>``, ``<tag><n>@example.org``, Stripe ids
    ``pi_<tag>_<n>``...). Returns their sum; ANALYZEs the table."""
    if connection.vendor != "postgresql":
        raise RuntimeError("gifts_seed needs PostgreSQL")
    if count < 1:
        raise ValueError("count must be at least 1")
    currency = project.currency
    # Load-test rows need no money history: django-pghistory's per-row insert trigger (it
    # attaches a context to each row) makes a million rows take half an hour.
    with pgtrigger.ignore(HISTORY_INSERT_TRIGGER), transaction.atomic():
        template = Donation.objects.create(
            project=project,
            amount=Money(10, currency),
            charged=Money(10, currency),
            counted=Decimal(10),
            donor_name="template",
            donor_email="template@example.org",
            status=Donation.Status.SUCCEEDED,
            succeeded_at=timezone.now(),
        )
        names = ",".join(f"'{n}'" for n in FIRST_NAMES)
        generated = {
            "id": "gen_random_uuid()",
            "donor_name": f"(ARRAY[{names}])[1 + g %% {len(FIRST_NAMES)}] || ' {tag}' || g",
            "donor_email": f"'{tag}' || g || '@example.org'",
            "amount": "10 + g %% 200",
            "charged": "10 + g %% 200",
            "counted": "10 + g %% 200",
            "succeeded_at": "now() - make_interval(secs => g)",
            "created_at": "now() - make_interval(secs => g + 60)",
            "updated_at": "now()",
            "payment_intent_id": f"'pi_{tag}_' || g",
            "charge_id": f"'ch_{tag}_' || g",
            "checkout_session_id": f"'cs_{tag}_' || g",
            "match_decided_at": "now() - make_interval(secs => g)",
        }
        columns = [str(f.column) for f in Donation._meta.concrete_fields]
        select = ", ".join(generated.get(c, f't."{c}"') for c in columns)
        quoted = ", ".join(f'"{c}"' for c in columns)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO donations_donation ({quoted}) "  # noqa: S608 - constants only
                f"SELECT {select} FROM donations_donation t, generate_series(1, %s) g "
                "WHERE t.id = %s",
                [count, template.pk],
            )
        template.delete()
        total = Decimal(sum(10 + g % 200 for g in range(1, count + 1)))
        FundingTotals.objects.filter(project=project).update(
            raised=F("raised") + total,
            donor_count=F("donor_count") + count,
            gift_count=F("gift_count") + count,
            updated_at=timezone.now(),
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE donations_donation")
    return total


def donation_insert_sql(
    computed: dict[str, str], source: str, *, currency: str = ""
) -> tuple[str, list[Any]]:
    """``INSERT INTO donations_donation (every column) SELECT ... FROM <source>`` and its
    parameters (the defaults', then any ``%s`` in ``source``): ``computed`` gives the SQL of
    some columns, with no placeholders (``%%`` for a literal %). Every currency column is
    ``currency`` (the project's; DEFAULT_CURRENCY if empty), every other column the model's
    default, NULL where it may be, so a column added later needs no change in the seeders.
    A column that needs a value per row (a unique one, or one without a default) must be
    computed: ValueError names it."""
    if any("%s" in sql for sql in computed.values()):
        raise ValueError("computed SQL takes no placeholders (they would be out of order)")
    currency = currency or str(settings.DEFAULT_CURRENCY)
    columns, values, params = [], [], []
    for f in Donation._meta.concrete_fields:
        column = str(f.column)
        columns.append(f'"{column}"')
        if column in computed:
            values.append(computed[column])
        elif isinstance(f, CurrencyField):
            values.append("%s")  # never NULL: a computed amount needs its currency
            params.append(currency)
        elif f.null:
            values.append("NULL")
        elif f.unique or not (f.has_default() or f.empty_strings_allowed):
            raise ValueError(f"donation_insert_sql: compute {column} (one value per row)")
        else:
            default = f.get_default()
            values.append("%s")
            params.append(getattr(default, "amount", default) if default is not None else "")
    sql = (
        f"INSERT INTO donations_donation ({', '.join(columns)}) "  # noqa: S608 - our columns
        f"SELECT {', '.join(values)} FROM {source}"
    )
    return sql, params
