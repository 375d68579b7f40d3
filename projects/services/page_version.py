"""Database triggers that move the public pages' versions (``projects.PageVersion``), one per
project page and one for the whole site, whenever what a page shows changes.

Scope ``SITE`` (0) is what every page shows: a matching pool covering all projects, a
project created or deleted, a table emptied by TRUNCATE. Scope ``<project id>`` is one
project's page: the project row, its totals (every gift), species, threats, sections,
photos and the pools that name it. So a gift writes only its own project's version row,
which gifts to that project already queue for (the totals row): gifts to other projects
never wait on it (docs/pages.md says what each shared row is).

Each bump is an upsert in the writer's transaction, so it becomes visible exactly when the
change does: a reader that sees the new version also sees the data, and a page rendered
from older data is stored under an older key that no reader asks for again. Versions only
grow (rows are never deleted), which the list page's key relies on (campaign/pagecache.py).

PostgreSQL gets row-level triggers (a WHEN clause skips writes that change nothing, as a
gift's relative UPDATE of the totals can be) and statement-level ones for TRUNCATE; SQLite
(the demo) gets the equivalent row-level triggers. Used by migrations ``projects.0008`` and
``donations.0022``; table and column names are constants, never input.
"""

from __future__ import annotations

from typing import Any

TABLE = "projects_pageversion"
SITE = 0
BUMP_FUNCTION = "campaign_page_version_bump"
SITE_FUNCTION = "campaign_page_version_site"
POOLS = "donations_matchingpool"
POOL_PROJECTS = "donations_matchingpool_projects"
# A pool's banner shows on the pages of the projects it covers. Gifts move ``allocated``
# (the remaining figure, which the page's live script keeps current): only the pool's
# edits, and its running dry or being refilled (the banner comes or goes), bump pages.
POOL_MATTERS = (
    "OLD.allocated = NEW.allocated OR "
    "(OLD.cap - OLD.allocated > 0) <> (NEW.cap - NEW.allocated > 0)"
)


def _upsert(scope_sql: str) -> str:
    return (
        f"INSERT INTO {TABLE} (scope, version) VALUES ({scope_sql}, 1) "  # noqa: S608
        f"ON CONFLICT (scope) DO UPDATE SET version = {TABLE}.version + 1"
    )


def _pool_projects_upsert(pool: str, extra: str = "") -> str:
    """SQLite: bump every project the pool names (``WHERE`` keeps the upsert unambiguous)."""
    return (
        f"INSERT INTO {TABLE} (scope, version) SELECT project_id, 1 FROM {POOL_PROJECTS} "  # noqa: S608
        f"WHERE matchingpool_id = {pool}.id{extra} "
        f"ON CONFLICT (scope) DO UPDATE SET version = {TABLE}.version + 1"
    )


def _postgres(schema_editor: Any) -> bool:
    return bool(schema_editor.connection.vendor == "postgresql")


def _check_vendor(schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in {"postgresql", "sqlite"}:  # pragma: no cover - the supported databases
        raise RuntimeError(f"No page-version triggers for the {vendor} database")


def functions_create(schema_editor: Any) -> None:
    """The bump (PostgreSQL) and the site row, started at the clock so a table rebuilt later
    never reuses a key that an old cached copy may still be stored under."""
    _check_vendor(schema_editor)
    if _postgres(schema_editor):
        schema_editor.execute(
            f"CREATE OR REPLACE FUNCTION {BUMP_FUNCTION}(page bigint) RETURNS void "
            f"LANGUAGE sql AS $$ {_upsert('page')} $$"
        )
        schema_editor.execute(
            f"CREATE OR REPLACE FUNCTION {SITE_FUNCTION}() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN PERFORM {BUMP_FUNCTION}({SITE}); RETURN NULL; END $$"
        )
        start = "(EXTRACT(EPOCH FROM now()) * 1000)::bigint"
    else:
        start = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
    schema_editor.execute(f"INSERT INTO {TABLE} (scope, version) VALUES ({SITE}, {start})")  # noqa: S608


def functions_drop(schema_editor: Any) -> None:
    if _postgres(schema_editor):
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {SITE_FUNCTION}() CASCADE")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {BUMP_FUNCTION}(bigint) CASCADE")


def _changed(schema_editor: Any, table: str) -> str:
    if _postgres(schema_editor):
        return "OLD.* IS DISTINCT FROM NEW.*"
    with schema_editor.connection.cursor() as cursor:
        columns = schema_editor.connection.introspection.get_table_description(cursor, table)
    return " OR ".join(f'OLD."{c.name}" IS NOT NEW."{c.name}"' for c in columns)


def project_triggers_create(
    schema_editor: Any, table: str, *, column: str = "project_id", changed_only: bool = False
) -> None:
    """Bump the page of the project named by ``column`` on every insert, delete and update of
    ``table`` (with ``changed_only``, only updates that change a column); an update that
    moves a row to another project bumps both. TRUNCATE bumps the site."""
    _check_vendor(schema_editor)
    name = f"page_version_{table}"
    when = f" WHEN ({_changed(schema_editor, table)})" if changed_only else ""
    if _postgres(schema_editor):
        schema_editor.execute(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP <> 'INSERT' THEN PERFORM {BUMP_FUNCTION}(OLD.{column}); END IF; "
            f"IF TG_OP = 'INSERT' THEN PERFORM {BUMP_FUNCTION}(NEW.{column}); "
            f"ELSIF TG_OP = 'UPDATE' AND NEW.{column} IS DISTINCT FROM OLD.{column} THEN "
            f"PERFORM {BUMP_FUNCTION}(NEW.{column}); END IF; RETURN NULL; END $$"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {name}_w AFTER INSERT OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {name}_u AFTER UPDATE ON {table} FOR EACH ROW{when} "
            f"EXECUTE FUNCTION {name}()"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {name}_t AFTER TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {SITE_FUNCTION}()"
        )
        return
    bodies = {
        "insert": _upsert(f"NEW.{column}"),
        "delete": _upsert(f"OLD.{column}"),
        "update": f"{_upsert(f'OLD.{column}')}; {_upsert(f'NEW.{column}')}",
    }
    for op, body in bodies.items():
        schema_editor.execute(
            f"CREATE TRIGGER {name}_{op} AFTER {op.upper()} ON {table} FOR EACH ROW"
            f"{when if op == 'update' else ''} BEGIN {body}; END"
        )


def site_triggers_create(schema_editor: Any, table: str) -> None:
    """Bump the site on every insert and delete of ``table`` (a project created or gone)."""
    _check_vendor(schema_editor)
    name = f"page_version_site_{table}"
    if _postgres(schema_editor):
        schema_editor.execute(
            f"CREATE TRIGGER {name} AFTER INSERT OR DELETE OR TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {SITE_FUNCTION}()"
        )
        return
    for op in ("insert", "delete"):
        schema_editor.execute(
            f"CREATE TRIGGER {name}_{op} AFTER {op.upper()} ON {table} FOR EACH ROW "
            f"BEGIN {_upsert(str(SITE))}; END"
        )


def pool_triggers_create(schema_editor: Any) -> None:
    """A pool covering all projects bumps the site; any other bumps the projects it names
    (its list of projects, ``POOL_PROJECTS``, has project triggers of its own)."""
    _check_vendor(schema_editor)
    name = f"page_version_{POOLS}"
    if _postgres(schema_editor):
        schema_editor.execute(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "DECLARE pool_id bigint; everywhere boolean := false; BEGIN "
            "IF TG_OP <> 'INSERT' THEN pool_id := OLD.id; "
            "everywhere := OLD.covers_all_projects; END IF; "
            "IF TG_OP <> 'DELETE' THEN pool_id := NEW.id; "
            "everywhere := everywhere OR NEW.covers_all_projects; END IF; "
            f"IF everywhere THEN PERFORM {BUMP_FUNCTION}({SITE}); ELSE "
            f"PERFORM {BUMP_FUNCTION}(project_id) FROM {POOL_PROJECTS} "
            "WHERE matchingpool_id = pool_id ORDER BY project_id; END IF; "
            "RETURN NULL; END $$"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {name}_w AFTER INSERT OR DELETE ON {POOLS} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {name}_u AFTER UPDATE ON {POOLS} FOR EACH ROW "
            f"WHEN ({POOL_MATTERS}) EXECUTE FUNCTION {name}()"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {name}_t AFTER TRUNCATE ON {POOLS} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {SITE_FUNCTION}()"
        )
        return
    site = f"INSERT INTO {TABLE} (scope, version) SELECT {SITE}, 1 WHERE {{cond}} "
    site += f"ON CONFLICT (scope) DO UPDATE SET version = {TABLE}.version + 1"
    cases = {
        "insert": ("NEW.covers_all_projects", _pool_projects_upsert("NEW")),
        "delete": ("OLD.covers_all_projects", _pool_projects_upsert("OLD")),
        "update": (
            "OLD.covers_all_projects OR NEW.covers_all_projects",
            _pool_projects_upsert(
                "NEW", " AND NOT (OLD.covers_all_projects OR NEW.covers_all_projects)"
            ),
        ),
    }
    for op, (everywhere, named) in cases.items():
        when = f" WHEN ({POOL_MATTERS})" if op == "update" else ""
        schema_editor.execute(
            f"CREATE TRIGGER {name}_{op} AFTER {op.upper()} ON {POOLS} FOR EACH ROW{when} "
            f"BEGIN {site.format(cond=everywhere)}; {named}; END"
        )


def triggers_drop(schema_editor: Any, table: str) -> None:
    """Drop the triggers ``project_triggers_create``, ``site_triggers_create`` or
    ``pool_triggers_create`` made on ``table`` (and their function)."""
    postgres = _postgres(schema_editor)
    for name in (f"page_version_{table}", f"page_version_site_{table}"):
        if postgres:
            for suffix in ("", "_w", "_u", "_t"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}{suffix} ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}() CASCADE")
        else:
            for op in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_{op}")
