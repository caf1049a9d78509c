"""Where the embedded store lives by default. Standard library and platformdirs only, so commands
that must start fast (`eim status`) can name the store without loading SQLAlchemy."""

from __future__ import annotations

from pathlib import Path


def default_url() -> str:
    """The embedded store: a SQLite file in the user's data directory."""
    from platformdirs import user_data_dir

    return f"sqlite:///{Path(user_data_dir('eim')) / 'eim.db'}"
