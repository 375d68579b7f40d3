"""The ledger export: one row per money movement, signed, with debit and credit columns
(the accounting journals are ``finance/services/journals.py``).

Debit and credit are from the charity's books, on the Stripe clearing account: money in
(a gift, a failed refund, a reinstated dispute, a match) is a debit; money out (a refund, a
fee, a dispute) is a credit. ``amount`` is the same movement signed (+ in, - out).

``account`` says which account those debit and credit columns are on, per kind, with the
journals' codes (settings' JOURNAL_ACCOUNTS): the Stripe clearing account for what passes
through Stripe, the pledges receivable for match rows, the bank for offline gifts (and the
suspense account for adjustments); ``contra_account`` is the other side (the income or
expense account the journals post the row to). Debit minus credit per account and currency
is that account's movement.
"""

from __future__ import annotations

from django.db.models import Case, CharField, DecimalField, F, QuerySet, Value, When
from django.db.models.functions import Abs

from donations.models import LedgerEntry
from finance.services.export_filters import ExportFilters, filters_apply, zone_name
from finance.services.export_formats import Column, local_text
from finance.services.journal_entry import account_code

MONEY = DecimalField(max_digits=14, decimal_places=2)
K = LedgerEntry.Kind
# The account a row's debit/credit is on, where it is not the Stripe clearing account.
BALANCE_SIDE = {
    K.MATCH: "pledges",
    K.MATCH_REVERSAL: "pledges",
    K.OFFLINE_GIFT: "offline_bank",
    K.OFFLINE_VOID: "offline_bank",
    K.ADJUSTMENT: "other",
}


def _per_kind(codes: dict[str, str], default: str) -> Case:
    return Case(
        *[When(kind=kind, then=Value(code)) for kind, code in codes.items()],
        default=Value(default),
        output_field=CharField(),
    )


def account_expressions() -> tuple[Case, Case]:
    """The ``account`` and ``contra_account`` columns, computed by the database."""
    side = {str(kind): account_code(a) for kind, a in BALANCE_SIDE.items()}
    contra = {str(kind): account_code(str(kind)) for kind in K.values}
    return _per_kind(side, account_code("clearing")), _per_kind(contra, account_code("other"))


def ledger_columns() -> list[Column]:
    z = zone_name()
    account, contra = account_expressions()
    return [
        Column("id", "id"),
        Column(f"occurred ({z})", local_text("occurred_at")),
        Column(f"recorded ({z})", local_text("recorded_at")),
        Column("kind", "kind"),
        Column("project", "project__slug"),
        Column("donation", "donation_id"),
        Column("pool", "pool__sponsor_name"),
        Column("currency", "amount_currency"),
        Column("amount", "amount"),
        Column(
            "debit",
            Case(When(amount__gt=0, then=F("amount")), default=Value(None), output_field=MONEY),
            money=True,
        ),
        Column(
            "credit",
            Case(When(amount__lt=0, then=Abs("amount")), default=Value(None), output_field=MONEY),
            money=True,
        ),
        Column("settled", "settled"),
        Column("settled_currency", "settled_currency"),
        Column("exchange_rate", "exchange_rate"),
        Column("project_amount", "project_amount"),
        Column("project_currency", "project__cost_currency"),
        Column("balance_transaction", "balance_transaction_id"),
        Column("payout", "payout__stripe_id"),
        Column("reference", "reference"),
        Column("note", "note"),
        Column("account", account),
        Column("contra_account", contra),
        # When a movement that happened in a closed month was dated into the open one: when
        # it really happened (empty otherwise).
        Column(f"happened ({z})", local_text("original_occurred_at")),
    ]


def ledger_queryset(f: ExportFilters) -> QuerySet[LedgerEntry]:
    qs = LedgerEntry.objects.all()
    qs = filters_apply(qs, f, moment="occurred_at")
    if f.payout:
        qs = qs.filter(payout__stripe_id=f.payout)
    if f.kinds:
        qs = qs.filter(kind__in=f.kinds)
    if f.statuses:
        qs = qs.filter(donation__status__in=f.statuses)
    return qs
