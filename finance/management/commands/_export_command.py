"""What export_donations, export_ledger and export_journal share: the same filters and
formats as the admin's Exports page, written to a file or standard output."""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from finance.services.export_filters import ExportError, filters_parse
from finance.services.export_formats import FORMATS
from finance.services.export_runner import SYSTEMS, export_run


class ExportCommand(BaseCommand):
    kind = ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--format",
            default="csv",
            help="csv (default, plain UTF-8 for importers), csv-bom (UTF-8 with a byte-order "
            "mark, for Excel on Windows) or xlsx",
        )
        parser.add_argument(
            "--bom", action="store_true", help="with --format csv: the same as csv-bom"
        )
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
                help="xero (manual journal CSV, files of at most 300 lines: FILE, FILE-2, "
                "...) or quickbooks (QuickBooks Online journal entries); one journal per paid "
                "payout, then the month-end journals (matched money, offline gifts by batch) "
                "of each month the dates touch",
            )
        parser.add_argument(
            "-o", "--output", required=True, help="the file to write, or - for standard output"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        fmt = str(options["format"]).lower()
        output = str(options["output"])
        if fmt not in FORMATS:
            raise CommandError(f"--format {options['format']!r}: use csv, csv-bom or xlsx")
        if options.get("bom"):
            if fmt not in ("csv", "csv-bom"):
                raise CommandError("--bom is for CSV: XLSX needs no byte-order mark")
            fmt = "csv-bom"
        if fmt == "xlsx" and output == "-" and sys.stdout.isatty():
            raise CommandError("XLSX is binary: give -o FILE rather than a terminal")
        system = str(options.get("journal") or "xero").lower()
        if system not in SYSTEMS:
            raise CommandError(f"--journal {system!r}: use xero or quickbooks")
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
            result = export_run(
                kind=self.kind,
                fmt=fmt,
                filters=filters,
                system=system,
                open_file=lambda _name, part: self._open(output, part),
                actor=f"command: export_{self.kind}",
                detail={"output": output},
                single_file=output == "-",
            )
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
        if output != "-":
            self.stderr.write(f"{result.rows} row(s) written to {output}")

    @contextmanager
    def _open(self, output: str, part: int) -> Iterator[IO[bytes]]:
        """The file for one part (FILE, then FILE-2, FILE-3 for the journal's parts), written
        beside the target and renamed into place, so a failure never leaves a half-written
        file under the name asked for."""
        if output == "-":
            # OutputWrapper keeps the stream it wraps as _out; a real stdout takes bytes.
            if self.stdout._out is sys.stdout and hasattr(sys.stdout, "buffer"):  # noqa: SLF001
                yield sys.stdout.buffer
                sys.stdout.buffer.flush()
                return
            buffer = io.BytesIO()  # called with stdout=StringIO (call_command in tests)
            yield buffer
            self.stdout.write(buffer.getvalue().decode("utf-8", "replace"), ending="")
            return
        ext = Path(output).suffix
        if part > 0:  # the name as typed, with the part's number before its extension
            output = f"{output[: len(output) - len(ext)]}-{part + 1}{ext}"
        directory = Path(output).absolute().parent
        if not directory.is_dir():
            raise ExportError(f"No directory {str(directory)!r} to write {output!r} in")
        fd, name = tempfile.mkstemp(dir=directory, prefix=".export-", suffix=ext)
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                yield out
            tmp.replace(output)
        finally:
            tmp.unlink(missing_ok=True)
