"""Opening a store: the one place that wires database, schema, reference data and services."""

from __future__ import annotations

from eim_tui.domain.clock import Clock
from eim_tui.reference.data import ReferenceData, load_reference
from eim_tui.services.incidents import Services
from eim_tui.store.engine import Database, default_url
from eim_tui.store.reference_sync import sync_reference
from eim_tui.store.schema import ensure_schema
from eim_tui.services.access import configured_default_role


def open_services(url: str | None = None, clock: Clock | None = None, ref: ReferenceData | None = None) -> Services:
    """Open (creating or upgrading as needed) the store at `url` and return its use cases."""
    db = Database(url or default_url())
    ref = ref or load_reference()
    done = ensure_schema(db)
    if done != "current":
        with db.write() as session:
            sync_reference(session, ref)
    services = Services(db, ref, clock)
    services.access.default_role = configured_default_role()  # what a login the store does not know may do
    return services
