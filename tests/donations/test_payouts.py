"""Payouts through the real stripe-python client against recorded responses: every page of
a payout's balance transactions, each line linked to its gift and ledger rows or left
unlinked for finance, the sum checked to the cent; and reconcile_check over all of it."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from djmoney.money import Money

from donations import tasks
from donations.models import Donation, LedgerEntry, Payout, PayoutLine
from projects.models import FundingTotals, Project
from tests.donations.event_helpers import Webhooks, charge_of, fresh, gift_start, requests_to

K = LedgerEntry.Kind
L = Payout.Lines


def _paid_gift(
    hooks: Webhooks, project: Project, fake: Any, amount: str
) -> tuple[Donation, dict[str, Any]]:
    d = gift_start(project, amount)
    hooks.deliver("checkout.session.completed", fake.pay(d.checkout_session_id))
    return fresh(d), charge_of(fake, d.checkout_session_id)


def _kind(line: PayoutLine) -> str:
    assert line.ledger_entry is not None
    return str(line.ledger_entry.kind)


def _check(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("reconcile_check", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_a_payout_of_many_pages_is_stored_line_by_line_and_sums_to_its_amount(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    kept, kept_charge = _paid_gift(hooks, project, fake_stripe, "80")
    _refunded, refunded_charge = _paid_gift(hooks, project, fake_stripe, "40")
    charge = fake_stripe.refund(refunded_charge["id"], 1500)
    hooks.deliver("charge.refunded", charge)
    disputed, disputed_charge = _paid_gift(hooks, project, fake_stripe, "30")
    dispute = fake_stripe.dispute(disputed_charge["id"], "needs_response")
    hooks.deliver("charge.dispute.created", dispute)
    refund_bt = fake_stripe.get(fake_stripe.get(charge["_refunds"][0])["balance_transaction"])
    stripe_fees = [
        fake_stripe.balance_line(amount=-3, currency="usd", type="stripe_fee", source=None)
        for _ in range(130)
    ]
    other_product = fake_stripe.balance_line(
        amount=1200, currency="usd", fee=65, net=1135, type="charge", source="ch_other_product"
    )
    ids = [
        kept_charge["balance_transaction"],
        refunded_charge["balance_transaction"],
        refund_bt["id"],
        disputed_charge["balance_transaction"],
        dispute["balance_transactions"][0]["id"],
        other_product["id"],
        *(line["id"] for line in stripe_fees),
    ]
    payout = fake_stripe.payout(ids)

    hooks.deliver("payout.paid", payout)
    hooks.deliver("payout.reconciliation_completed", payout)

    stored = Payout.objects.get(stripe_id=payout["id"])
    assert (stored.lines_status, stored.line_count) == (L.RECONCILED, len(ids))
    assert stored.lines_total == Decimal(payout["amount"]) / 100 == stored.amount.amount
    assert stored.difference is None and stored.automatic
    assert stored.unlinked_count == 131  # Stripe's fees and the other product's charge
    pages = requests_to(fake_stripe, "/v1/balance_transactions")
    assert [p["params"].get("starting_after") is not None for p in pages] == [False, True]
    assert all(p["params"]["expand"] == ["data.source"] for p in pages)
    assert all(p["params"]["payout"] == payout["id"] for p in pages)
    line = PayoutLine.objects.get(balance_transaction_id=kept_charge["balance_transaction"])
    assert (line.donation_id, _kind(line)) == (kept.pk, K.GIFT)
    assert _kind(PayoutLine.objects.get(balance_transaction_id=refund_bt["id"])) == K.REFUND
    dispute_line = PayoutLine.objects.get(
        balance_transaction_id=dispute["balance_transactions"][0]["id"]
    )
    assert (dispute_line.donation_id, _kind(dispute_line)) == (
        disputed.pk,
        K.DISPUTE_WITHDRAWAL,
    )
    assert PayoutLine.objects.get(balance_transaction_id=other_product["id"]).donation is None
    on_payout = LedgerEntry.objects.filter(payout=stored)
    assert set(on_payout.values_list("kind", flat=True)) == {
        K.GIFT,
        K.FEE,
        K.REFUND,
        K.DISPUTE_WITHDRAWAL,
        K.DISPUTE_FEE,
    }
    assert (
        not LedgerEntry.objects.filter(payout__isnull=True)
        .exclude(kind__in=LedgerEntry.MATCH_KINDS)
        .exists()
    )

    # A redelivered event lists again and adds nothing.
    Payout.objects.filter(pk=stored.pk).update(lines_status=L.AWAITING)
    hooks.deliver("payout.reconciliation_completed", payout)
    assert PayoutLine.objects.filter(payout=stored).count() == len(ids)

    code, out = _check()
    assert code == 0, out
    assert f"summing to {stored.lines_total} = its amount" in out


def test_lines_that_do_not_sum_to_the_payout_are_flagged_with_the_difference(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    _, charge = _paid_gift(hooks, project, fake_stripe, "50")
    payout = fake_stripe.payout([charge["balance_transaction"]], amount=5000)  # net is 48.25

    hooks.deliver("payout.paid", payout)

    stored = Payout.objects.get(stripe_id=payout["id"])
    assert (stored.lines_status, stored.difference) == (L.MISMATCH, Decimal("1.75"))
    code, out = _check()
    assert code == 1
    assert (
        f"payout {payout['id']}: lines sum to 48.25, the payout is 50.00 (difference 1.75)" in out
    )


def test_a_manual_payout_says_stripe_cannot_itemise_it(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    payout = fake_stripe.payout([], automatic=False, amount=10000)
    hooks.deliver("payout.paid", payout)
    stored = Payout.objects.get(stripe_id=payout["id"])
    assert stored.lines_status == L.NOT_ITEMISED
    assert requests_to(fake_stripe, "/v1/balance_transactions") == []
    code, out = _check()
    assert code == 0 and "manual payout, not itemised by Stripe" in out


def test_lines_wait_for_stripes_reconciliation_then_a_missed_event_is_repaired(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    _, charge = _paid_gift(hooks, project, fake_stripe, "20")
    payout = fake_stripe.payout(
        [charge["balance_transaction"]], reconciliation_status="in_progress"
    )
    hooks.deliver("payout.paid", payout)
    stored = Payout.objects.get(stripe_id=payout["id"])
    assert stored.lines_status == L.AWAITING
    assert requests_to(fake_stripe, "/v1/balance_transactions") == []

    # Stripe finishes; its payout.reconciliation_completed never reaches us. Beat repairs.
    fake_stripe.update(payout["id"], reconciliation_status="completed")
    assert tasks.payouts_repair() == [payout["id"]]
    assert Payout.objects.get(pk=stored.pk).lines_status == L.RECONCILED
    assert tasks.payouts_repair() == []  # nothing left to repair


def test_reconcile_check_fails_on_corrupted_totals_and_repair_rebuilds_them(
    hooks: Webhooks, project: Project, fake_stripe: Any
) -> None:
    _paid_gift(hooks, project, fake_stripe, "50")
    _paid_gift(hooks, project, fake_stripe, "25")
    assert _check()[0] == 0
    FundingTotals.objects.filter(project=project).update(
        raised=Money(999, "USD"), donor_count=7, provisional=True
    )

    code, out = _check()
    assert code == 1
    assert f"project {project.slug}: raised is 999.00, the ledger and gifts say 75.00" in out
    assert f"project {project.slug}: donors is 7, the ledger and gifts say 2" in out
    assert f"project {project.slug}: provisional is True, the ledger and gifts say False" in out

    code, out = _check("--repair")
    assert code == 0, out
    assert f"repaired: project {project.slug}: totals rebuilt (raised 75.00" in out
    t = FundingTotals.objects.get(project=project)
    assert (t.raised, t.donor_count, t.gift_count, t.provisional) == (Money(75, "USD"), 2, 2, False)
    assert _check()[0] == 0


def test_reconcile_check_lists_old_gifts_on_no_payout_and_the_nightly_job_mails_admins(
    hooks: Webhooks, project: Project, fake_stripe: Any, settings: Any
) -> None:
    settings.ADMINS = [("Finance", "finance@example.org")]
    settings.RECONCILE_UNPAID_AFTER_DAYS = 3
    recent, _ = _paid_gift(hooks, project, fake_stripe, "10")
    old = gift_start(project, "50")
    session = fake_stripe.pay(old.checkout_session_id)
    five_days_ago = int((timezone.now() - timedelta(days=5)).timestamp())
    fake_stripe.update(charge_of(fake_stripe, old.checkout_session_id)["id"], created=five_days_ago)
    hooks.deliver("checkout.session.completed", session)  # paid 5 days ago by Stripe's clock

    code, out = _check("--unpaid-after-days", "3")
    assert code == 1
    assert f"gift {old.pk} paid" in out and "is on no payout" in out
    assert f"gift {recent.pk}" not in out
    assert "succeeded Stripe gifts older than 3 day(s) on no payout: 1" in out
    assert _check("--unpaid-after-days", "6")[0] == 0

    mail.outbox.clear()
    assert tasks.reconcile_nightly() == 1
    (message,) = mail.outbox
    assert message.to == ["finance@example.org"]
    assert "reconcile_check: 1 discrepancy(ies)" in message.subject
    assert f"gift {old.pk} paid" in message.body

    # Once a payout carries it, the check passes and the nightly job stays quiet.
    charge = charge_of(fake_stripe, old.checkout_session_id)
    hooks.deliver("payout.paid", fake_stripe.payout([charge["balance_transaction"]]))
    mail.outbox.clear()
    assert tasks.reconcile_nightly() == 0
    assert mail.outbox == []


def test_reconcile_check_refuses_a_negative_day_count(db: None) -> None:
    code, _ = _check("--unpaid-after-days", "-1")
    assert code == 2


def test_finance_reads_the_ledger_payouts_and_lines_in_the_admin_without_editing(
    hooks: Webhooks, project: Project, fake_stripe: Any, admin_client: Any
) -> None:
    _, charge = _paid_gift(hooks, project, fake_stripe, "50")
    payout = fake_stripe.payout([charge["balance_transaction"]])
    hooks.deliver("payout.paid", payout)
    stored = Payout.objects.get(stripe_id=payout["id"])
    entry = LedgerEntry.objects.filter(kind=K.GIFT).get()

    for url in (
        "/admin/donations/ledgerentry/",
        "/admin/donations/ledgerentry/?kind__exact=gift",
        f"/admin/donations/ledgerentry/?q={charge['balance_transaction']}",
        "/admin/donations/payout/",
        f"/admin/donations/payoutline/?payout__id__exact={stored.pk}",
        f"/admin/donations/payout/{stored.pk}/change/",
        f"/admin/donations/ledgerentry/{entry.pk}/change/",
    ):
        page = admin_client.get(url)
        assert page.status_code == 200, url
    body = admin_client.get("/admin/donations/payout/").content.decode()
    assert payout["id"] in body and "Lines sum to the amount" in body
    assert admin_client.get("/admin/donations/ledgerentry/add/").status_code == 403
    assert admin_client.post(f"/admin/donations/ledgerentry/{entry.pk}/delete/").status_code == 403


def test_payouts_repair_goes_on_past_a_payout_it_cannot_reconcile(
    hooks: Webhooks, project: Project, fake_stripe: Any, caplog: Any
) -> None:
    _, first = _paid_gift(hooks, project, fake_stripe, "20")
    _, second = _paid_gift(hooks, project, fake_stripe, "30")
    older = fake_stripe.payout([first["balance_transaction"]])
    newer = fake_stripe.payout([second["balance_transaction"]])
    # Stripe refuses the first lines request the repair makes (newest payout first).
    fake_stripe.fail_next("/v1/balance_transactions", 400)
    repaired = tasks.payouts_repair()
    assert repaired == [older["id"]]
    assert f"Repair of payout {newer['id']} failed; going on with the rest" in caplog.text
    assert Payout.objects.get(stripe_id=older["id"]).lines_status == L.RECONCILED
    assert tasks.payouts_repair() == [newer["id"]]  # the next run picks it up
