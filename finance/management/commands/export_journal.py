"""Export the accounting journal: `manage.py export_journal --journal xero -o FILE` (Xero's
manual journal CSV) or `--journal quickbooks -o FILE` (QuickBooks Online's journal entries)."""

from __future__ import annotations

from finance.management.commands._export_command import ExportCommand


class Command(ExportCommand):
    help = (
        "Export the accounting journal (Xero: CSV only; QuickBooks: CSV or XLSX) with the "
        "Exports page's filters; -o - for stdout."
    )
    kind = "journal"
