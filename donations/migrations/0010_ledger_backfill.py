"""Ledger rows for the gifts and matches that existed before the ledger: the gift, its fee,
refunds so far (one row, their ids were not kept), a dispute's withdrawal and
reinstatement, and every match allocation. Project amounts add up to what each gift counts
now, so the funding totals equal the ledger from the first day."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import migrations
from djmoney.money import Money

PAID = ("succeeded", "partially_refunded", "refunded", "disputed")
RAISED = {"gift", "refund", "dispute_withdrawal", "dispute_reinstatement"}
WON = {"won", "warning_closed"}


def _quantum(currency):
    if currency.upper() in {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG",
                            "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}:
        return Decimal(1)
    return Decimal("0.01")


def _dec(value):
    """Historical models keep djmoney's descriptors: amounts may come back as Money."""
    return None if value is None else Decimal(getattr(value, "amount", value))


def _rows_for(d, project_currency, Entry, settles_in):
    occurred = d.succeeded_at
    amount, fee_covered = _dec(d.amount), _dec(d.fee_covered)
    settled_d, stripe_fee, refunded = _dec(d.settled), _dec(d.stripe_fee), _dec(d.refunded)
    charged = _dec(d.charged) if d.charged is not None else amount + fee_covered
    charged_currency = str(d.charged_currency if d.charged is not None else d.amount_currency)
    q = _quantum(project_currency)
    gift_part = max(charged - fee_covered, Decimal(0))
    gross = None
    if settled_d is not None and str(d.settled_currency) == project_currency and charged:
        gross = settled_d * gift_part / charged
    elif charged_currency == project_currency:
        gross = gift_part

    def row(kind, ref, value, currency, settled=None, settled_currency=None, **extra):
        return Entry(
            kind=kind, reference=ref, project_id=d.project_id, donation_id=d.pk,
            amount=Money(value, currency), occurred_at=occurred,
            settled=Money(settled, settled_currency) if settled is not None else None,
            note="recorded when the ledger was introduced", **extra,
        )

    rows = []
    if gross is not None:
        settled = settled_d if settled_d is not None else (
            charged if charged_currency == settles_in else None)
        rows.append(row(
            "gift", str(d.pk), charged, charged_currency, settled=settled,
            settled_currency=str(d.settled_currency) if settled_d is not None else settles_in,
            exchange_rate=d.exchange_rate, balance_transaction_id=d.balance_transaction_id,
            project_amount=gross.quantize(q, ROUND_HALF_UP),
        ))
    if stripe_fee:
        fee_currency = str(d.stripe_fee_currency)
        rows.append(row(
            "fee", str(d.pk), -stripe_fee, fee_currency, settled=-stripe_fee,
            settled_currency=fee_currency, balance_transaction_id=d.balance_transaction_id,
        ))
    if refunded:
        share = (gross or Decimal(0)) * refunded / charged if charged else Decimal(0)
        rows.append(row(
            "refund", f"{d.pk}:before-ledger", -refunded, charged_currency,
            project_amount=-share.quantize(q, ROUND_HALF_UP),
        ))
    if d.dispute_id and not d.dispute_status.startswith("warning_"):
        rows.append(row("dispute_withdrawal", d.dispute_id, -charged, charged_currency))
        if d.dispute_status in WON:
            rows.append(row("dispute_reinstatement", d.dispute_id, charged, charged_currency))
    raising = [r for r in rows if r.kind in RAISED]
    remainder = d.counted - sum((r.project_amount for r in raising), Decimal(0))
    if raising:
        raising[-1].project_amount += remainder
    elif remainder:
        rows.append(row("adjustment", f"{d.pk}:before-ledger", Decimal(0), charged_currency,
                        project_amount=remainder))
    return rows


def forwards(apps, schema_editor):
    Donation = apps.get_model("donations", "Donation")
    Entry = apps.get_model("donations", "LedgerEntry")
    Allocation = apps.get_model("donations", "MatchAllocation")
    settles_in = getattr(settings, "DONATION_SETTLEMENT_CURRENCY", "USD")
    batch = []
    gifts = (
        Donation.objects.filter(status__in=PAID, succeeded_at__isnull=False)
        .select_related("project")
        .order_by("pk")
    )
    for d in gifts.iterator(chunk_size=2000):
        batch += _rows_for(d, str(d.project.cost_currency), Entry, settles_in)
        if len(batch) >= 5000:
            Entry.objects.bulk_create(batch)
            batch = []
    allocations = Allocation.objects.select_related("donation", "donation__project").order_by("pk")
    for a in allocations.iterator(chunk_size=2000):
        batch.append(Entry(
            kind="match_reversal" if a.amount < 0 else "match",
            reference=f"allocation:{a.pk}", project_id=a.donation.project_id,
            donation_id=a.donation_id, pool_id=a.pool_id,
            amount=Money(a.amount, str(a.donation.project.cost_currency)), project_amount=a.amount,
            occurred_at=a.donation.succeeded_at or a.created_at, note=a.note,
        ))
        if len(batch) >= 5000:
            Entry.objects.bulk_create(batch)
            batch = []
    Entry.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [("donations", "0009_ledger_append_only")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
