"""What keeps finance's admin lists fast with a million gifts.

* ``EstimatedCountPaginator``: a changelist's count is PostgreSQL's own estimate (from the
  plan of the filtered query) when that is over ``EXACT_COUNT_UP_TO`` rows, an exact
  ``COUNT(*)`` below it. Counting a million rows reads a million index entries on every page
  view; an estimate costs a plan. The admin then says "about" nothing: Django prints the
  figure, so the page reads "1000234 donations" while the real count may differ by a little.
* ``exact_search``: the ledger, payout and webhook lists find a row by an id typed exactly,
  each through its column's index.
* ``donation_search``: the term's shape picks one index. Stripe ids by their prefix go to
  their unique index, a donation's UUID to the primary key, an email address to the index on
  ``LOWER(donor_email)``, anything else to the trigram index on ``UPPER(donor_name)``
  (``icontains``), which needs three characters; a shorter name finds nothing and the admin
  says to type more. A payout id (``po_``) finds its gifts through the payout's lines, a
  balance transaction (``txn_``) through the ledger's index on it. An amount is not
  searched: no index on a gift's amount serves it at a million rows.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils.functional import cached_property

from donations.models import LedgerEntry, Payout, PayoutLine

EXACT_COUNT_UP_TO = 10_000
MAX_RELATED = 100  # related rows an exact id can match (one, in practice)
# A name search is a trigram match (icontains): shorter terms find nothing.
NAME_SEARCH_MIN_LENGTH = 3
STRIPE_ID_FIELDS = {
    "pi_": "payment_intent_id",
    "ch_": "charge_id",
    "cs_": "checkout_session_id",
    "in_": "invoice_id",
    "sub_": "subscription_id",
    "cus_": "customer_id",
}


def estimated_count(queryset: QuerySet[Any]) -> int | None:
    """The planner's row estimate for the queryset, or None off PostgreSQL."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    try:
        sql, params = queryset.order_by().query.sql_with_params()
    except EmptyResultSet:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        raw = cursor.fetchone()[0]
    plan = json.loads(raw) if isinstance(raw, str) else raw
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if isinstance(queryset, QuerySet):
            estimate = estimated_count(queryset)
            if estimate is not None and estimate > EXACT_COUNT_UP_TO:
                return estimate
        return super().count


def exact_search(queryset: QuerySet[Any], fields: Sequence[str], term: str) -> QuerySet[Any]:
    """Rows whose field (any of ``fields``, relations allowed) equals the term exactly, as
    typed: each comparison is served by that column's index. Django's own ``=field`` search
    compares UPPER(column) with UPPER(term), which no index serves. A term that cannot be a
    field's value (not a UUID for an id) skips that field."""
    term = term.strip()
    if not term:
        return queryset
    found = Q()
    for spec in fields:
        path = spec.lstrip("=^@")
        chain = get_fields_from_path(queryset.model, path)
        try:
            value = chain[-1].to_python(term)
        except ValidationError:
            continue
        if len(chain) == 1 or path.endswith("__id"):
            found |= Q(**{path: value})
            continue
        # A related row's field: find those rows first (their own index), then match on the
        # foreign key, so every branch of the OR stays on one table and one index.
        relation, _, rest = path.partition("__")
        model = chain[0].related_model
        if model is None or isinstance(model, str):
            continue
        related = model._default_manager.filter(**{rest: value})
        pks = list(related.values_list("pk", flat=True)[:MAX_RELATED])
        if pks:
            found |= Q(**{f"{relation}__in": pks})
    return queryset.filter(found) if found else queryset.none()


AMOUNT_TERM = re.compile(r"^\d{1,3}(,\d{3})*(\.\d{1,3})?$|^\d{1,12}(\.\d{1,3})?$")


RECEIPT_TERM = re.compile(r"^\d{4}-\d{6}(-C\d+)?$", re.IGNORECASE)


def amount_term(term: str) -> Decimal | None:
    """A search term that is an amount (digits, an optional point and up to three decimals,
    commas only as thousands marks), as a Decimal; None for anything else."""
    if not AMOUNT_TERM.match(term):
        return None
    return Decimal(term.replace(",", ""))


def _figure_search(queryset: QuerySet[Any], term: str) -> QuerySet[Any] | None:
    """A term that is a receipt number or an amount; None for any other term."""
    if RECEIPT_TERM.match(term):
        # A receipt number (a corrected receipt's suffix left off): its unique index.
        return queryset.filter(receipt_number=term.upper().split("-C")[0])
    amount = amount_term(term)
    if amount is not None:
        # An amount as finance types it ("50", "1,250.00"): the gifts of exactly that amount,
        # in any currency (donation_amount index).
        return queryset.filter(amount=amount)
    return None


def donation_search(
    queryset: QuerySet[Any], term: str, allowed: set[str] | None = None
) -> QuerySet[Any]:
    """The term's shape picks the field and its index. ``allowed``: the fields this user may
    search (the admin's search fields for them: no email search without the permission to
    see donors' contact details); None allows all."""

    def may(field: str) -> bool:
        return allowed is None or field in allowed

    term = term.strip()
    if not term:
        return queryset
    if term.startswith("po_"):
        # The gifts in a payout: the payout by its unique id, its lines by their payout
        # index, the gifts by primary key.
        lines = PayoutLine.objects.filter(
            payout__in=Payout.objects.filter(stripe_id=term).values("pk"), donation__isnull=False
        )
        return queryset.filter(pk__in=lines.values("donation_id"))
    if term.startswith("txn_"):
        # A balance transaction: the ledger's rows for it (ledger_balance_txn index).
        rows = LedgerEntry.objects.filter(balance_transaction_id=term, donation__isnull=False)
        return queryset.filter(pk__in=rows.values("donation_id"))
    for prefix, field in STRIPE_ID_FIELDS.items():
        if term.startswith(prefix):
            return queryset.filter(**{field: term}) if may(field) else queryset.none()
    try:
        found = uuid.UUID(term)
    except ValueError:
        pass
    else:
        return queryset.filter(pk=found) if may("id") else queryset.none()
    by_figure = _figure_search(queryset, term)
    if by_figure is not None:
        return by_figure
    if "@" in term:
        if not may("donor_email"):
            return queryset.none()
        return queryset.alias(email_lower=Lower("donor_email")).filter(email_lower=term.lower())
    if len(term) < NAME_SEARCH_MIN_LENGTH or not may("donor_name"):
        return queryset.none()  # the admin says why (DonationAdmin.get_search_results)
    return queryset.filter(donor_name__icontains=term)
