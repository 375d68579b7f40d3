"""Export the journal as CSV or XLSX: `manage.py export_journal --format csv -o FILE`."""

from __future__ import annotations

from finance.management.commands._export_command import ExportCommand


class Command(ExportCommand):
    help = "Export the journal (CSV or XLSX) with the Exports page's filters; -o - for stdout."
    kind = "journal"
