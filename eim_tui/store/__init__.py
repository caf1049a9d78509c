"""The SQLAlchemy store: engines, tables, migrations, queries. Only domain objects leave it.

The names below are loaded on first use (PEP 562), so a module of this package that needs no
SQLAlchemy (`location`, `status_counts`) can be imported without paying for it.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Database": "eim_tui.store.engine",
    "default_url": "eim_tui.store.location",
    "normalise_url": "eim_tui.store.engine",
    "HEAD_REVISION": "eim_tui.store.schema",
    "SchemaError": "eim_tui.store.schema",
    "ensure_schema": "eim_tui.store.schema",
    "upgrade": "eim_tui.store.schema",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'eim_tui.store' has no attribute {name!r}")
