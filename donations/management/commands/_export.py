"""What export_donations, export_ledger and export_journal share: the same filters and
formats as the admin's Exports page, written to a file or standard output."""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from donations.models_finance import FinanceAction
from donations.services.export_specs import export_spec
from donations.services.exports import (
    FORMATS,
    ExportError,
    filters_parse,
    write_csv,
    write_xlsx,
)
from donations.services.finance_log import action_record


class ExportCommand(BaseCommand):
    kind = ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", default="csv", help="csv (default) or xlsx")
        parser.add_argument(
            "--from", dest="date_from", default="", help="paid on or after, YYYY-MM-DD"
        )
        parser.add_argument(
            "--to", dest="date_to", default="", help="paid on or before, YYYY-MM-DD"
        )
        parser.add_argument("--project", default="", help="a project's slug or id")
        parser.add_argument("--payout", default="", help="a payout's Stripe id (po_…)")
        parser.add_argument("--status", default="", help="gift statuses, comma-separated")
        parser.add_argument("--currency", default="", help="a currency code, e.g. EUR")
        if self.kind == "ledger":
            parser.add_argument("--kind", default="", help="ledger kinds, comma-separated")
        if self.kind == "journal":
            parser.add_argument(
                "--journal",
                default="xero",
                help="xero (manual journal, files of at most 300 lines: FILE, FILE-2, ...) "
                "or quickbooks (bank CSV, one line per payout)",
            )
        parser.add_argument(
            "-o", "--output", required=True, help="the file to write, or - for standard output"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        fmt = str(options["format"]).lower()
        if fmt not in FORMATS:
            raise CommandError(f"--format {options['format']!r}: use csv or xlsx")
        output = str(options["output"])
        if fmt == "xlsx" and output == "-" and sys.stdout.isatty():
            raise CommandError("XLSX is binary: give -o FILE rather than a terminal")
        try:
            filters = filters_parse(
                date_from=options["date_from"],
                date_to=options["date_to"],
                project=options["project"],
                status=options["status"],
                payout=options["payout"],
                currency=options["currency"],
                kind=options.get("kind") or "",
            )
            system = str(options.get("journal") or "xero").lower()
            if system not in ("xero", "quickbooks"):
                raise ExportError(f"--journal {system!r}: use xero or quickbooks")
            spec = export_spec(self.kind, filters, system=system)
            if spec.parts > 1 and output == "-":
                raise ExportError(
                    f"The journal needs {spec.parts} files of at most 300 lines: give -o FILE"
                )
            rows = self._write(spec, fmt, output)
            for part in range(1, spec.parts):
                stem, ext = os.path.splitext(output)
                more = export_spec(self.kind, filters, system=system, part=part)
                rows += self._write(more, fmt, f"{stem}-{part + 1}{ext}")
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
        action_record(
            FinanceAction.Kind.EXPORT,
            f"command: export_{self.kind}",
            f"Exported {rows} {self.kind} row(s) as {fmt.upper()}",
            target=f"export:{self.kind}",
            detail={"format": fmt, "filters": filters.as_dict(), "rows": rows, "output": output},
        )
        if output != "-":
            self.stderr.write(f"{rows} row(s) written to {output}")

    def _write(self, spec: Any, fmt: str, output: str) -> int:
        """Write to a temporary file beside the target and rename it into place, so a
        failure never leaves a half-written file under the name asked for."""
        if output == "-":
            out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
            if out is None or self.stdout._out is not sys.stdout:  # called with stdout=...
                import io

                buffer = io.BytesIO()
                rows = self._write_to(spec, fmt, buffer)
                self.stdout.write(buffer.getvalue().decode("utf-8", "replace"), ending="")
                return rows
            rows = self._write_to(spec, fmt, out)
            out.flush()
            return rows
        directory = os.path.dirname(os.path.abspath(output))
        if not os.path.isdir(directory):
            raise ExportError(f"No directory {directory!r} to write {output!r} in")
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".export-", suffix=f".{fmt}")
        try:
            with os.fdopen(fd, "wb") as out:
                rows = self._write_to(spec, fmt, out)
            os.replace(tmp, output)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return rows

    def _write_to(self, spec: Any, fmt: str, out: Any) -> int:
        if fmt == "xlsx":
            return write_xlsx(spec, out)
        return write_csv(spec, out)
