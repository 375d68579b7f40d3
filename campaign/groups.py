"""The staff groups and what each may do, created by migrations and re-created after every
``migrate`` or ``flush`` if missing (post_migrate), so a flushed database is never left
without them. An existing group is left as staff configured it."""

from __future__ import annotations

from typing import Any

EDITOR_MODELS = ["project", "keyspecies", "threat", "section", "photo"]
ACTIONS = ["add", "change", "delete", "view"]

STAFF_GROUPS: dict[str, list[tuple[str, str]]] = {
    # Editors write project pages and touch nothing about money.
    "Editors": [
        *[("projects", f"{a}_{m}") for m in EDITOR_MODELS for a in ACTIONS],
        # Project updates (stewardship/): written and published by editors, who see who was
        # emailed (never the addresses: that is donor contact data, Finance's).
        *[("stewardship", f"{a}_update") for a in ACTIONS],
        ("stewardship", "view_delivery"),
    ],
    # Finance sees donations, settlement figures, the inbox, and runs matching pools.
    "Finance": [
        ("donations", "view_donation"),
        ("donations", "change_donation"),
        ("donations", "view_transitionlog"),
        ("donations", "view_webhookevent"),
        ("donations", "change_webhookevent"),
        ("donations", "add_matchingpool"),
        ("donations", "change_matchingpool"),
        ("donations", "view_matchingpool"),
        ("donations", "view_matchallocation"),
        ("donations", "view_sharedgift"),
        ("projects", "view_fundingtotals"),
        ("stewardship", "view_update"),
        ("stewardship", "view_delivery"),
        ("projects", "view_project"),
        # The money figures of a project (cost, acres, price per acre, after-goal policy):
        # read-only to Editors, who keep every other field.
        ("projects", "change_project"),
        ("projects", "change_project_money"),
        # Closing a live project's giving (archive, unpublish, delete): not Editors'.
        ("projects", "close_project"),
        # The finance desk (issue 9): donor contact details, exports, refunds, offline gifts,
        # receipts and statements, the action log and the money models' history.
        *[
            ("donations", codename)
            for codename in [
                "view_financeaction",
                "view_refundrequest",
                "view_statementrun",
                "view_statementsent",
                "view_donationhistory",
                "view_matchingpoolhistory",
                "view_payouthistory",
                "view_ledgerentry",
                "view_payout",
                "view_payoutline",
                "change_payout",
                "view_donor_contact",
                "export_finance",
                "refund_donation",
                "send_statements",
                "record_offline_gift",
                "view_finance_dashboard",
                "close_period",
            ]
        ],
    ],
}


def staff_groups_ensure(using: str = "default", **kwargs: Any) -> None:
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    for name, perms in STAFF_GROUPS.items():
        group, created = Group.objects.using(using).get_or_create(name=name)
        if not created:
            continue
        wanted = Q(pk__in=[])
        for app_label, codename in perms:
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.using(using).filter(wanted))
