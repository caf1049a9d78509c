"""The SQLAlchemy store: engines, tables, migrations, queries. Only domain objects leave it."""

from eim_tui.store.engine import Database, default_url, normalise_url
from eim_tui.store.schema import HEAD_REVISION, SchemaError, ensure_schema, upgrade

__all__ = [
    "HEAD_REVISION",
    "Database",
    "SchemaError",
    "default_url",
    "ensure_schema",
    "normalise_url",
    "upgrade",
]
