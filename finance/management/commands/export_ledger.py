"""Export the ledger as CSV or XLSX: `manage.py export_ledger --format csv -o FILE`."""

from __future__ import annotations

from finance.management.commands._export_command import ExportCommand


class Command(ExportCommand):
    help = "Export the ledger (CSV or XLSX) with the Exports page's filters; -o - for stdout."
    kind = "ledger"
