"""Cells that cannot run: text a donor, an editor or Stripe wrote, made safe for a
spreadsheet (OWASP's CSV injection advice). A value starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return is a formula to Excel, LibreOffice and Google Sheets; a leading
``'`` makes it text and shows the value as typed. Numbers are never passed through here: a
negative amount stays a number.

One rule, in two forms that give the same text: ``cell_text`` for rows made in Python (the
statements, the journals, the cursor path of the exports) and ``CellText`` for the database,
so PostgreSQL's ``COPY`` of an export's SELECT writes safe cells at its own speed. Lives in
donations/ because the donors' statement CSV needs it too (donations never imports finance)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Func, TextField

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The same characters for PostgreSQL's regular expressions (the hyphen last: not a range).
_PATTERN = "^([=+@\t\r-])"


def cell_text(value: str) -> str:
    """The text as a spreadsheet cell that shows it and never evaluates it."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def cell_safe(value: Any) -> Any:
    """``cell_text`` for a string; any other value (a number, a date, None) unchanged."""
    return cell_text(value) if isinstance(value, str) else value


class CellText(Func):
    """``cell_text`` in SQL, evaluating its expression once (it may be a subquery)."""

    output_field = TextField()

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, tuple[Any, ...]]:
        inner, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return f"regexp_replace(({inner})::text, %s, %s)", (*params, _PATTERN, "'\\1")
        # SQLite and the rest: the expression repeats (cheap where these run: tests, demo).
        marks = ", ".join(["%s"] * len(FORMULA_STARTS))
        return (
            f"CASE WHEN substr({inner}, 1, 1) IN ({marks}) THEN '''' || {inner} ELSE {inner} END",
            (*params, *FORMULA_STARTS, *params, *params),
        )
