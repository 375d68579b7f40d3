"""The first page version: one row for the whole site (projects.0005 to 0008), frozen here
for those migrations. Superseded by per-project versions (projects/services/page_version.py,
projects.0008).

Database triggers that moved ``PageVersion.version`` whenever a public page's data changed.
Used by migrations (``projects.0005``, ``donations.0017``). PostgreSQL gets one trigger
function and statement-level triggers (row-level where a WHEN clause skips no-op writes);
SQLite (the demo) gets the equivalent row-level triggers. The bump is an UPDATE of one row in
the writer's transaction, so it becomes visible exactly when the change does: a reader that
sees the new version also sees the data, and a page rendered from older data is stored
under an older version that no reader asks for again.
"""

from __future__ import annotations

from typing import Any

TABLE = "projects_pageversion"
FUNCTION = "campaign_page_version_bump"
# An upsert: a flushed table (tests, `manage.py flush`) gets its row back at the next change.
# Constant names only, never input.
BUMP = (
    f"INSERT INTO {TABLE} (id, version) VALUES (1, 1) "  # noqa: S608
    f"ON CONFLICT (id) DO UPDATE SET version = {TABLE}.version + 1"
)


def function_create(schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
    schema_editor.execute(f"INSERT INTO {TABLE} (id, version) VALUES (1, 0)")  # noqa: S608


def function_drop(schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}() CASCADE")


def _any_column_changed(schema_editor: Any, table: str) -> str:
    if schema_editor.connection.vendor == "postgresql":
        return "OLD.* IS DISTINCT FROM NEW.*"
    with schema_editor.connection.cursor() as cursor:
        columns = schema_editor.connection.introspection.get_table_description(cursor, table)
    return " OR ".join(f'OLD."{c.name}" IS NOT NEW."{c.name}"' for c in columns)


def triggers_create(
    schema_editor: Any, table: str, *, update_when: str = "", changed_only: bool = False
) -> None:
    """Bump on every insert, delete (and truncate) of ``table``, and on updates; with
    ``update_when`` (a condition on OLD and NEW) only on updates that satisfy it, with
    ``changed_only`` only on updates that change a column (a rewrite of the same values, as
    every gift's relative UPDATE of the totals can be, does not count)."""
    vendor = schema_editor.connection.vendor
    name = f"page_version_{table}"
    if changed_only:
        update_when = _any_column_changed(schema_editor, table)
    if vendor == "postgresql":
        if update_when:
            schema_editor.execute(
                f"CREATE TRIGGER {name}_w AFTER INSERT OR DELETE OR TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            )
            schema_editor.execute(
                f"CREATE TRIGGER {name}_u AFTER UPDATE ON {table} FOR EACH ROW "
                f"WHEN ({update_when}) EXECUTE FUNCTION {FUNCTION}()"
            )
        else:
            schema_editor.execute(
                f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            )
    elif vendor == "sqlite":
        for op in ("INSERT", "UPDATE", "DELETE"):
            when = f" WHEN {update_when}" if op == "UPDATE" and update_when else ""
            schema_editor.execute(
                f"CREATE TRIGGER {name}_{op.lower()} AFTER {op} ON {table} FOR EACH ROW{when} "
                f"BEGIN {BUMP}; END"
            )
    else:  # pragma: no cover - the project supports PostgreSQL and SQLite only
        raise RuntimeError(f"No page-version triggers for the {vendor} database")


def triggers_drop(schema_editor: Any, table: str) -> None:
    name = f"page_version_{table}"
    if schema_editor.connection.vendor == "postgresql":
        for suffix in ("", "_w", "_u"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}{suffix} ON {table}")
    else:
        for op in ("insert", "update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_{op}")
