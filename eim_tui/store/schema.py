"""Creating and upgrading the schema.

A new store is created at the latest schema and stamped with the head revision, without
importing Alembic (it costs start-up time); an older store is upgraded with Alembic's migrations.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from eim_tui.store.engine import Database
from eim_tui.store.tables import Base

HEAD_REVISION = "0001"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class SchemaError(Exception):
    pass


def current_revision(db: Database) -> str | None:
    with db.read_engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_schema(db: Database) -> str:
    """Bring the store to the latest schema; returns what was done: created, upgraded or current."""
    revision = current_revision(db)
    if revision == HEAD_REVISION:
        return "current"
    if revision is None:
        with db.write_engine.connect() as conn:
            if inspect(conn).get_table_names():
                raise SchemaError(
                    "the database holds tables that are not an eim store; point --db at an empty database"
                )
        with db.write_engine.begin() as conn:
            Base.metadata.create_all(conn)
            conn.execute(text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": HEAD_REVISION})
        return "created"
    upgrade(db)
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
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
