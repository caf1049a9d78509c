"""The only constructors: `open_services` wires database, schema, reference data and use cases;
`make_app` builds the TUI (the queue, or the wall board) around them. The command line, `eim
serve` and the tests all build through here."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from eim_tui.config import Config
from eim_tui.domain.clock import Clock, SystemClock
from eim_tui.reference import ReferenceData, load_reference
from eim_tui.services import Services
from eim_tui.store.engine import Database, default_url
from eim_tui.store.reference_sync import seed_catalogue
from eim_tui.store.schema import ensure_schema

if TYPE_CHECKING:
    from eim_tui.domain.board import BoardScope
    from eim_tui.tui.app import EimApp


def open_services(config: Config | str | None = None, clock: Clock | None = None,
                  ref: ReferenceData | None = None) -> Services:
    """Open (creating or upgrading as needed) the store `config` names and return its use cases.

    A plain string is a store URL with every other setting at its default (tests use that)."""
    if not isinstance(config, Config):
        config = Config(db_url=config)
    db = Database(config.db_url or default_url())
    ref = ref or load_reference()
    done = ensure_schema(db)
    if done != "current":
        with db.write() as session:
            seed_catalogue(session, ref, (clock or SystemClock()).now())  # a new store only: then the store is the truth
        from eim_tui.store.access_install import install

        install(db)  # PostgreSQL: the database roles, grants and row-level security (docs/access.md)
    services = Services(db, ref, clock)
    services.catalogue.reference()  # read the catalogue now, not on the TUI's first look (50,000 CIs: ~0.5 s)
    services.access.default_role = config.default_role  # what a login the store does not know may do
    return services


def make_app(
    config: Config,
    services: Services,
    user: str,
    *,
    wall: BoardScope | None = None,
    poll_interval: float = 1.0,
    tick_interval: float = 1.0,
    sla_scheduler: bool = True,
) -> EimApp:
    """The TUI for `user` on `services`: the queue, or with `wall` the wall board for that scope."""
    if wall is not None:
        from eim_tui.tui.wall_app import WallApp

        return WallApp(services, user, wall, config, poll_interval=poll_interval, tick_interval=tick_interval)
    from eim_tui.tui.app import EimApp

    return EimApp(services, user, config, poll_interval=poll_interval, tick_interval=tick_interval,
                  sla_scheduler=sla_scheduler)


def with_store(config: Config, url: str | None) -> Config:
    """`config` with the store `--db` names, when given (it wins over `EIM_DB`)."""
    return replace(config, db_url=url) if url else config
