"""What a command works with, read from its parsed arguments: the configuration, who acts, the store.

`complete(args)` fills in `args.config` (config.toml and the EIM_* variables, read once), `args.db`
and `args.user`; `open_store(args)` opens the store those name. Both turn what is wrong with the
setting into a one-line `UsageError`. Heavy imports stay inside the functions (fast `eim --help`).
"""

from __future__ import annotations

import argparse
import getpass
from typing import TYPE_CHECKING

from eim_tui.cli.errors import UsageError, explain

if TYPE_CHECKING:
    from eim_tui.config import Config
    from eim_tui.services import Services


def complete(args: argparse.Namespace) -> argparse.Namespace:
    """`args` with the configuration, the store URL (`--db` wins over EIM_DB) and the acting user."""
    args.config = load_config()
    args.db = getattr(args, "db", None) or args.config.db_url
    args.user_given = getattr(args, "user", None) or args.config.user  # --user / EIM_USER, when named
    args.user = args.user_given or default_user(args.config)
    return args


def load_config() -> Config:
    """config.toml and the EIM_* variables, read once for the whole command."""
    from eim_tui.config import ConfigError
    from eim_tui.config import load_config as read

    try:
        return read()
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def default_user(config: Config | None = None) -> str:
    """`--user` absent: `EIM_USER` (read into the configuration), else the OS login."""
    if config is not None and config.user:
        return config.user
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def open_store(args: argparse.Namespace) -> Services:
    """The use cases on the store `args` names; a store that cannot be used is bad input (status 2)."""
    from sqlalchemy.exc import OperationalError

    from eim_tui.bootstrap import open_services, with_store
    from eim_tui.cli.identity import identify
    from eim_tui.reference import ReferenceError
    from eim_tui.store.schema import SchemaError

    try:
        services = open_services(with_store(args.config, args.db))
    except (ReferenceError, SchemaError) as exc:
        raise UsageError(str(exc)) from None
    except OperationalError as exc:
        # The store --db / EIM_DB names cannot be opened (no server there, no such database or
        # file): the input is wrong, so status 2 like any other bad input, not 1 like a crash.
        raise UsageError(explain(exc)) from None
    try:
        identify(args, services)  # who is running this, proven (cli/identity.py); refused: exit 2
    except BaseException:
        services.db.dispose()
        raise
    return services
