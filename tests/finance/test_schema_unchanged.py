"""The desk's models moved from donations/ to finance/ without touching the database: they
keep the ``donations`` app label, their tables and their permission names, and the
migration state is unchanged (no migration is made or needed)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

DESK_MODELS = [
    "FinanceAction",
    "RefundRequest",
    "StatementRun",
    "StatementSent",
    "FinanceDesk",
    "ExportJob",
    "OfflineBatch",
    "OfflineGift",
]


@pytest.mark.django_db
def test_the_move_needs_no_migration() -> None:
    out = StringIO()
    # --check exits non-zero (SystemExit) when the models differ from the migrations.
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.parametrize("name", DESK_MODELS)
def test_desk_models_live_in_finance_and_keep_their_tables(name: str) -> None:
    model = apps.get_model("donations", name)
    assert model.__module__ == "finance.models"
    assert model._meta.db_table == f"donations_{name.lower()}"


@pytest.mark.django_db
def test_desk_permissions_keep_their_names() -> None:
    from django.contrib.auth.models import Permission

    codenames = set(
        Permission.objects.filter(content_type__app_label="donations").values_list(
            "codename", flat=True
        )
    )
    assert {
        "view_donor_contact",
        "export_finance",
        "refund_donation",
        "send_statements",
        "record_offline_gift",
        "view_finance_dashboard",
    } <= codenames
