"""Creating and upgrading the schema.

A new store is created at the latest schema and stamped with the head revision, without
importing Alembic (it costs start-up time); an older store is upgraded with Alembic's migrations.
A store this program cannot keep is refused with what is wrong, before anything is written: one
made by a newer eim (a revision it does not know), or one whose tables are not those its revision
promises (made by a development build whose schema changed under the same revision).
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import inspect, text

from eim_tui.store import search
from eim_tui.store.engine import Database
from eim_tui.store.tables import Base

HEAD_REVISION = "0012"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_CREATE_LOCK = 0x45494D  # "EIM": the advisory lock that serialises creating a new store on PostgreSQL


class SchemaError(Exception):
    pass


def known_revisions() -> set[str]:
    """The revisions this program has migrations for (from the file names: no Alembic import)."""
    return {m.group(1) for p in (MIGRATIONS_DIR / "versions").glob("*.py") if (m := re.match(r"(\d{4})_", p.name))}


def check_tables(db: Database, revision: str, promised: dict[str, set[str]] | None = None) -> None:
    """The store has every table and column its revision promises: `promised` (table → columns),
    by default the head revision's, from the ORM tables."""
    if promised is None:
        promised = {name: set(table.columns.keys()) for name, table in Base.metadata.tables.items()}
    with db.read_engine.connect() as conn:
        found = inspect(conn)
        what, missing = "table", sorted(set(promised) - set(found.get_table_names()))
        if not missing:
            what = "column"
            missing = [
                f"{name}.{column}"
                for name in sorted(promised)
                for column in sorted(promised[name] - {c["name"] for c in found.get_columns(name)})
            ]
    if missing:
        raise SchemaError(
            f"the store says schema revision {revision} but has no {what} {', '.join(missing)}: it was made by a "
            "development build whose schema differed; restore it from a backup or start a new store with --db"
        )


def promised_schema(revision: str) -> dict[str, set[str]]:
    """The tables (and their columns) a store at an older `revision` has, found by running the
    migrations up to it on a scratch in-memory SQLite: exact, and only paid when a store needs
    upgrading. Checked before upgrading, so a store whose tables differ from its revision's is
    refused untouched, named by its own revision, instead of failing half-way through a migration."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    scratch = create_engine("sqlite://")
    try:
        with scratch.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            found = inspect(conn)
            return {
                name: {c["name"] for c in found.get_columns(name)}
                for name in found.get_table_names()
                if name != "alembic_version"
            }
    finally:
        scratch.dispose()


def current_revision(db: Database) -> str | None:
    with db.read_engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_schema(db: Database) -> str:
    """Bring the store to the latest schema; returns what was done: created, upgraded or current."""
    revision = current_revision(db)
    if revision == HEAD_REVISION:
        check_tables(db, revision)
        return "current"
    if revision is not None and revision not in known_revisions():
        raise SchemaError(
            f"the store is at schema revision {revision}, newer than this eim knows (up to {HEAD_REVISION}); "
            "run the eim release that made it, or upgrade eim"
        )
    if revision is None:
        # Several processes may open a new store at once (a team's TUIs, the ingest receiver): one
        # creates it while the others wait for its lock (SQLite's write lock, taken as the
        # transaction begins; a PostgreSQL advisory lock) and then find it made.
        with db.write_engine.begin() as conn:
            if db.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CREATE_LOCK})
            found = inspect(conn)
            if found.has_table("alembic_version"):
                revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            elif found.get_table_names():
                raise SchemaError(
                    "the database holds tables that are not an eim store; point --db at an empty database"
                )
            else:
                Base.metadata.create_all(conn)
                search.install(conn)
                conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
                conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": HEAD_REVISION})
                return "created"
        if revision == HEAD_REVISION:
            check_tables(db, revision)
            return "current"
    check_tables(db, revision, promised_schema(revision))
    upgrade(db)
    check_tables(db, HEAD_REVISION)
    return "upgraded"


def alembic_config(db: Database):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    from alembic import command

    cfg = alembic_config(db)
    with db.write_engine.begin() as conn:
        _drop_views(db, conn, revision)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _drop_views(db: Database, conn, revision: str) -> None:
    """PostgreSQL: the placeholder view reads the incident table, so a migration could not change the
    columns it shows; it is dropped before migrating (in the same transaction) and remade by
    `access_install.install`, which `eim db upgrade` and opening an upgraded store run after."""
    if db.dialect != "postgresql":
        return
    if conn.execute(text("SELECT to_regclass('alembic_version') IS NULL")).scalar():
        return  # an empty database: nothing to drop
    current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if current != (HEAD_REVISION if revision == "head" else revision):
        from eim_tui.store.placeholders import VIEW

        conn.execute(text(f"DROP VIEW IF EXISTS {VIEW}"))


def downgrade(db: Database, revision: str) -> None:
    """Step the store back to `revision` (for trying a release before this one; migrations that
    cannot give back what they changed say so). One transaction: all steps or none."""
    from alembic import command

    cfg = alembic_config(db)
    with db.write_engine.begin() as conn:
        _drop_views(db, conn, revision)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
