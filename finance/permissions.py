"""The finance desk's permissions (carried by the FinanceDesk model, app label
``donations``) and who counts as a desk user."""

from __future__ import annotations

from django.http import HttpRequest

CONTACT_FIELDS = {"donor_email", "tribute_notify_email"}
P_CONTACT = "donations.view_donor_contact"
P_EXPORT = "donations.export_finance"
P_REFUND = "donations.refund_donation"
P_SEND = "donations.send_statements"
P_DASHBOARD = "donations.view_finance_dashboard"
P_OFFLINE = "donations.record_offline_gift"
P_PERIODS = "donations.close_period"


def desk_user(request: HttpRequest) -> bool:
    user = request.user
    return bool(
        user.is_active
        and user.is_staff
        and any(user.has_perm(p) for p in (P_EXPORT, P_SEND, P_REFUND, P_DASHBOARD))
    )
