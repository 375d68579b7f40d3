"""The scenarios tests build on the fake: a paid session, its settlement, refunds,
disputes, subscriptions and invoices, with recorded shapes and consistent ids."""

from __future__ import annotations

import time
from typing import Any

from donations.providers.stripe_objects import refund_movements
from tests.stripe_fake.server import FakeStripeServer
from tests.stripe_fake.shapes import _succeeded_intent, new_id, recording


class FakeStripe(FakeStripeServer):
    """The fake Stripe the tests run against: the server, and the scenarios they build on it."""

    # --- scenario builders (recorded shapes, consistent ids) ------------------------------
    def pay(
        self,
        session_id: str,
        *,
        settled_currency: str | None = None,
        exchange_rate: float | None = None,
        settled_amount: int | None = None,
        fee: int | None = None,
        amount: int | None = None,
    ) -> dict[str, Any]:
        """The donor paid a payment-mode session: payment intent, charge, balance transaction."""
        session = self.get(session_id)
        amount = session["amount_total"] if amount is None else amount
        currency = session["currency"]
        pi_id = new_id("pi")
        meta = session["metadata"]
        gross = settled_amount if settled_amount is not None else amount
        fee = fee if fee is not None else round(gross * 0.029) + 30
        ch_id = self.settle(
            pi_id,
            amount=amount,
            currency=currency,
            fee=fee,
            metadata=meta,
            settled_amount=gross,
            settled_currency=settled_currency,
            exchange_rate=exchange_rate,
        )
        self.put(_succeeded_intent(pi_id, amount, currency, ch_id, meta))
        return self.update(
            session_id, status="complete", payment_status="paid", payment_intent=pi_id
        )

    def settle(
        self,
        pi_id: str,
        *,
        amount: int,
        currency: str,
        fee: int,
        metadata: dict[str, Any],
        settled_amount: int | None = None,
        settled_currency: str | None = None,
        exchange_rate: float | None = None,
    ) -> str:
        """A charge on pi_id and its balance transaction (fee, net, rate); the charge id."""
        ch_id, txn_id = new_id("ch"), new_id("txn")
        gross = amount if settled_amount is None else settled_amount
        bt = recording("balance_transaction")
        bt.update(
            id=txn_id,
            amount=gross,
            currency=settled_currency or currency,
            exchange_rate=exchange_rate,
            fee=fee,
            net=gross - fee,
            source=ch_id,
            created=int(time.time()),
        )
        bt["fee_details"][0].update(amount=fee, currency=settled_currency or currency)
        charge = recording("charge")
        charge.update(
            id=ch_id,
            amount=amount,
            amount_captured=amount,
            currency=currency,
            payment_intent=pi_id,
            balance_transaction=txn_id,
            metadata=metadata,
            created=int(time.time()),
        )
        self.put(bt)
        self.put(charge)
        return ch_id

    def refund(
        self, charge_id: str, amount_refunded: int, *, status: str = "succeeded"
    ) -> dict[str, Any]:
        """Refund the charge up to amount_refunded in all: a refund object with its own
        balance transaction, as Stripe makes one. Returns the charge."""
        with self.lock:
            charge = self.objects[charge_id]
            bt_id = charge.get("balance_transaction")
            refund, bt, changes = refund_movements(
                charge,
                self.objects.get(bt_id) if isinstance(bt_id, str) else None,
                amount_refunded - (charge.get("amount_refunded") or 0),
                refund_id=new_id("re"),
                txn_id=new_id("txn"),
                now=int(time.time()),
            )
            base = recording("refund")
            base.update(refund, status=status)
            self.objects[bt["id"]] = bt
            self.objects[base["id"]] = base
            charge.update(changes)
            self.rendered.clear()
            self.lists.clear()
        return self.get(charge_id)

    def refund_fails(self, refund_id: str) -> dict[str, Any]:
        """The bank returned a refund: Stripe puts the money back with a second balance
        transaction and the charge's amount_refunded goes down."""
        with self.lock:
            refund = self.objects[refund_id]
            charge = self.objects[refund["charge"]]
            out = self.objects[refund["balance_transaction"]]
            back = dict(out, id=new_id("txn"), amount=-out["amount"], net=-out["net"])
            back.update(type="refund_failure", reporting_category="refund_failure")
            self.objects[back["id"]] = back
            refund.update(
                status="failed",
                failure_reason="expired_or_canceled_card",
                failure_balance_transaction=back["id"],
            )
            charge["amount_refunded"] -= refund["amount"]
            charge["refunded"] = False
            self.rendered.clear()
            self.lists.clear()
        return self.get(refund_id)

    def dispute(
        self, charge_id: str, status: str, dispute_id: str | None = None, *, fee: int = 1500
    ) -> dict[str, Any]:
        """A dispute, with Stripe's withdrawal of the disputed amount and its dispute fee (an
        inquiry, warning_*, withdraws nothing)."""
        dispute = recording("dispute")
        charge = self.get(charge_id)
        dispute.update(
            id=dispute_id or new_id("du"),
            charge=charge_id,
            amount=charge["amount"],
            currency=charge["currency"],
            payment_intent=charge["payment_intent"],
            status=status,
        )
        if not status.startswith("warning_"):
            dispute["balance_transactions"] = [self._dispute_line(dispute, charge, -1, fee)]
        self.update(charge_id, disputed=True)
        return self.put(dispute)

    def dispute_won(self, dispute_id: str, *, fee_returned: bool = False) -> dict[str, Any]:
        """Won: Stripe reinstates the disputed amount (the fee, depending on the network)."""
        dispute = self.get(dispute_id)
        charge = self.get(dispute["charge"])
        fee = -dispute["balance_transactions"][0]["fee"] if fee_returned else 0
        lines = [*dispute["balance_transactions"], self._dispute_line(dispute, charge, 1, fee)]
        return self.update(dispute_id, status="won", balance_transactions=lines)

    def _dispute_line(
        self, dispute: dict[str, Any], charge: dict[str, Any], sign: int, fee: int
    ) -> dict[str, Any]:
        charge_bt = self.objects.get(charge.get("balance_transaction") or "")
        amount = charge_bt["amount"] if charge_bt else charge["amount"]
        bt = recording("balance_transaction")
        bt.update(
            id=new_id("txn"),
            amount=sign * amount,
            currency=charge_bt["currency"] if charge_bt else charge["currency"],
            fee=fee,
            net=sign * amount - fee,
            fee_details=[]
            if not fee
            else [dict(bt["fee_details"][0], amount=fee, description="Dispute fee")],
            source=dispute["id"],
            type="adjustment",
            reporting_category="dispute" if sign < 0 else "dispute_reversal",
            description="Chargeback withdrawal" if sign < 0 else "Chargeback reversal",
            created=int(time.time()),
        )
        self.put(bt)
        return bt

    def subscribe(self, session_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A subscription-mode session completed: subscription and its first paid invoice."""
        session = self.get(session_id)
        sub = recording("subscription")
        sub.update(
            id=new_id("sub"),
            metadata=session["_subscription_metadata"],
            currency=session["currency"],
        )
        self.put(sub)
        invoice = self.invoice(
            sub["id"],
            billing_reason="subscription_create",
            amount=session["amount_total"],
            currency=session["currency"],
        )
        self.update(
            session_id,
            status="complete",
            payment_status="paid",
            subscription=sub["id"],
            invoice=invoice["id"],
            customer=sub["customer"],
        )
        return sub, invoice

    def invoice(
        self, subscription_id: str, *, billing_reason: str, amount: int, currency: str
    ) -> dict[str, Any]:
        sub = self.get(subscription_id)
        pi_id = new_id("pi")
        fee = round(amount * 0.029) + 30
        ch_id = self.settle(pi_id, amount=amount, currency=currency, fee=fee, metadata={})
        invoice = recording("invoice")
        invoice.update(
            id=new_id("in"),
            billing_reason=billing_reason,
            amount_paid=amount,
            amount_due=amount,
            total=amount,
            subtotal=amount,
            currency=currency,
        )
        invoice["parent"]["subscription_details"] = {
            "metadata": sub["metadata"],
            "subscription": subscription_id,
        }
        # Stripe sends an invoice's payments only when asked (expand[]=payments).
        payment = invoice.pop("payments")["data"][0]
        payment.update(
            id=new_id("inpay"),
            invoice=invoice["id"],
            amount_paid=amount,
            amount_requested=amount,
            currency=currency,
        )
        payment["payment"]["payment_intent"] = pi_id
        invoice["_payments"] = [payment["id"]]
        self.put(payment)
        self.put(_succeeded_intent(pi_id, amount, currency, ch_id, {}))
        self.put(invoice)
        return invoice

    def subscribe_fails(self, session_id: str) -> dict[str, Any]:
        """A subscription-mode session whose first payment failed, as Stripe leaves it: the
        session complete and unpaid with no payment intent of its own, the subscription
        ``incomplete``, its first invoice ``open`` (attempted once) whose default payment is
        ``open`` too, and that payment intent back at ``requires_payment_method`` with the
        decline and a failed charge. Returns the subscription, invoice and payment intent."""
        session = self.get(session_id)
        amount, currency = session["amount_total"], session["currency"]
        sub_id, in_id, pi_id, ch_id = new_id("sub"), new_id("in"), new_id("pi"), new_id("ch")
        sub = recording("subscription")
        sub.update(
            id=sub_id,
            status="incomplete",
            latest_invoice=in_id,
            metadata=session["_subscription_metadata"],
            currency=currency,
        )
        charge = recording("charge")
        charge.update(
            id=ch_id,
            amount=amount,
            amount_captured=0,
            currency=currency,
            paid=False,
            captured=False,
            status="failed",
            failure_code="card_declined",
            failure_message="Your card was declined.",
            payment_intent=pi_id,
            balance_transaction=None,
            metadata={},
            created=int(time.time()),
        )
        decline = {"code": "card_declined", "type": "card_error", "charge": ch_id}
        pi = recording("payment_intent")
        pi.update(
            id=pi_id,
            amount=amount,
            amount_received=0,
            currency=currency,
            customer=sub["customer"],
            latest_charge=ch_id,
            last_payment_error=decline,
            status="requires_payment_method",
        )
        invoice = recording("invoice_first_payment_failed")
        invoice.update(id=in_id, amount_due=amount, amount_remaining=amount, currency=currency)
        invoice["parent"]["subscription_details"] = {
            "metadata": sub["metadata"],
            "subscription": sub_id,
        }
        payment = invoice.pop("payments")["data"][0]  # sent only when expanded
        payment.update(id=new_id("inpay"), invoice=in_id, amount_requested=amount)
        payment["payment"]["payment_intent"] = pi_id
        invoice["_payments"] = [payment["id"]]
        for obj in (sub, charge, pi, payment, invoice):
            self.put(obj)
        self.update(
            session_id,
            status="complete",
            payment_status="unpaid",
            payment_intent=None,
            subscription=sub_id,
            invoice=in_id,
            customer=sub["customer"],
        )
        return {"sub": self.get(sub_id), "invoice": self.get(in_id), "pi": pi_id}
