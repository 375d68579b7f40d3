"""Export the donations as CSV or XLSX: `manage.py export_donations --format csv -o FILE`."""

from __future__ import annotations

from finance.management.commands._export_command import ExportCommand


class Command(ExportCommand):
    help = "Export the donations (CSV or XLSX) with the Exports page's filters; -o - for stdout."
    kind = "donations"
