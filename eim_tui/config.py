"""eim's configuration, read once per process: `config.toml` and every `EIM_*` variable.

`load_config()` reads the user's `config.toml` (in the user config directory, or `EIM_CONFIG`)
and the environment, checks them as a whole and returns one frozen `Config`. The command line
reads it once and hands it down (to `bootstrap.open_services` and `bootstrap.make_app`); nothing
else reads the environment or the file.

    [keymap]                 # binding id = keys, e.g. remap the filter bar to f
    "queue.filter" = "f"

    [alerts]                 # SLA alerts in the TUI
    channels = ["toast", "bell", "terminal", "desktop"]   # any of these; [] for none
    severities = [1, 2, 3]        # warnings and breaches of these severities (escalations always)
    quiet_hours = "22:00-07:00"   # local time: only the in-app toast, no bell or notifications
    escape = "osc777"             # the terminal notification: osc777, osc9, osc99
    tmux_passthrough = true       # wrap it for tmux (allow-passthrough on) when $TMUX is set

    [wall]                   # `eim wall`: ring the bell on a new Sev1 or a fresh breach
    bell = true

    [access]                 # what a login the store does not know may do (EIM_DEFAULT_ROLE wins)
    default_role = "viewer"

Variables: `EIM_CONFIG` (the file), `EIM_DB` (the store URL), `EIM_USER` (who you are),
`EIM_DEFAULT_ROLE`, `EIM_EXPORT_DIR` (where the TUI writes exports), `EIM_INGEST_TOKEN`.

A mistake is a `ConfigError` naming the file, the line and what would be right; eim then refuses
to start rather than guess.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

from eim_tui.domain.errors import ValidationError
from eim_tui.domain.roles import Role, parse_role

CHANNELS = ("toast", "bell", "terminal", "desktop")
ESCAPES = ("osc777", "osc9", "osc99")


class ConfigError(Exception):
    """The configuration has a mistake: the message names the file, the line and the fix."""


@dataclass(frozen=True)
class AlertSettings:
    channels: frozenset[str] = frozenset(CHANNELS)
    severities: frozenset[int] = frozenset({1, 2, 3})
    quiet_hours: tuple[time, time] | None = None
    escape: str = "osc777"
    tmux_passthrough: bool = True


@dataclass(frozen=True)
class Config:
    """Everything eim reads from outside the store, read once per process."""

    path: Path | None = None
    keymap: Mapping[str, str] = field(default_factory=dict)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    wall_bell: bool = False  # [wall] bell = true: the wall board rings on a new Sev1 or a fresh breach
    default_role: Role = Role.RESPONDER  # what a login the store does not know may do
    db_url: str | None = None  # EIM_DB; None: the SQLite file in the user's data directory
    user: str | None = None  # EIM_USER; None: the OS login
    export_dir: Path = Path(".")  # EIM_EXPORT_DIR: where the TUI writes exports
    ingest_token: str | None = None  # EIM_INGEST_TOKEN
    raw: Mapping[str, Any] = field(default_factory=dict)


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if explicit := env.get("EIM_CONFIG"):
        return Path(explicit).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("eim")) / "config.toml"


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read `config.toml` (at `path`, else `EIM_CONFIG`, else the user config directory) and the
    `EIM_*` variables of `env` (default: this process's environment)."""
    env = os.environ if env is None else env
    path = path or config_path(env)
    text, data = _read_toml(path)
    keymap = data.get("keymap", {})
    if not isinstance(keymap, dict) or not all(isinstance(v, str) for v in keymap.values()):
        raise ConfigError(f'{path}: [keymap] must map binding ids to keys, e.g. "queue.filter" = "f"')
    alerts = parse_alert_settings(data, path, text)
    wall = data.get("wall", {})
    if not isinstance(wall, dict) or not isinstance(wall.get("bell", False), bool):
        raise ConfigError(f"{path}: [wall] bell must be true or false")
    return Config(
        path=path,
        keymap=dict(keymap),
        alerts=alerts,
        wall_bell=wall.get("bell", False),
        default_role=_default_role(data, env, path),
        db_url=env.get("EIM_DB") or None,
        user=env.get("EIM_USER") or None,
        export_dir=Path(env.get("EIM_EXPORT_DIR") or ".").expanduser(),
        ingest_token=env.get("EIM_INGEST_TOKEN") or None,
        raw=data,
    )


def read_regular_text(path: str | Path, encoding: str = "utf-8") -> str:
    """The text of a file a person named, refusing anything that is not a regular file.

    A device (`/dev/zero`), a FIFO or a directory named where a file belongs would be read for
    ever or fail obscurely; it raises OSError(EINVAL, "not a regular file") instead, which every
    caller already turns into its one-line message."""
    fd = os.open(Path(path).expanduser(), os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        with os.fdopen(fd, "r", encoding=encoding, closefd=True) as source:
            fd = -1
            return source.read()
    finally:
        if fd >= 0:
            os.close(fd)


def _read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    if not path.exists():
        return "", {}
    try:
        text = read_regular_text(path)
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        where = f": line {line.group(1)}" if line else ""
        raise ConfigError(f"{path}{where}: {str(exc).split(' (at')[0]}; fix the TOML there") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise ConfigError(f"{path}: cannot read it ({reason})") from None


def _default_role(data: dict[str, Any], env: Mapping[str, str], path: Path) -> Role:
    """`EIM_DEFAULT_ROLE`, else `[access] default_role`, else responder."""
    try:
        if value := env.get("EIM_DEFAULT_ROLE", "").strip():
            return parse_role(value)
        access = data.get("access", {})
        value = access.get("default_role") if isinstance(access, dict) else None
        if value is None:
            return Role.RESPONDER
        if not isinstance(value, str):
            raise ConfigError(f"[access] default_role must be a role name, not {value!r}")
        return parse_role(value)
    except ValidationError as exc:
        raise ConfigError(str(exc)) from None


def parse_alert_settings(data: dict[str, Any], path: Path | None = None, text: str = "") -> AlertSettings:
    table = data.get("alerts")
    if table is None:
        return AlertSettings()
    line = _line_of(text, "alerts")

    def fail(message: str) -> ConfigError:
        where = f"{path}" if path else "config.toml"
        return ConfigError(f"{where}{f': line {line}' if line else ''}: [alerts] {message}")

    if not isinstance(table, dict):
        raise fail("must be a table: write [alerts] on its own line, then key = value lines")
    unknown = sorted(set(table) - {"channels", "severities", "quiet_hours", "escape", "tmux_passthrough"})
    if unknown:
        raise fail(f"unknown setting {unknown[0]!r}; use channels, severities, quiet_hours, escape, tmux_passthrough")
    channels = table.get("channels", list(CHANNELS))
    if not isinstance(channels, list) or any(c not in CHANNELS for c in channels):
        raise fail(f"channels must be a list of {', '.join(CHANNELS)}, not {channels!r}")
    severities = table.get("severities", [1, 2, 3])
    if not isinstance(severities, list) or any(isinstance(s, bool) or s not in range(1, 6) for s in severities):
        raise fail(f"severities must be a list of 1 … 5, not {severities!r}")
    escape = table.get("escape", "osc777")
    if escape not in ESCAPES:
        raise fail(f"escape must be one of {', '.join(ESCAPES)}, not {escape!r}")
    passthrough = table.get("tmux_passthrough", True)
    if not isinstance(passthrough, bool):
        raise fail(f"tmux_passthrough must be true or false, not {passthrough!r}")
    quiet = table.get("quiet_hours")
    hours = None
    if quiet is not None:
        found = re.fullmatch(r"\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*", quiet) if isinstance(quiet, str) else None
        try:
            hours = (_time(found.group(1)), _time(found.group(2))) if found else None
        except ValueError:
            hours = None
        if hours is None:
            raise fail(f'quiet_hours must be like "22:00-07:00" (local time), not {quiet!r}')
    return AlertSettings(frozenset(channels), frozenset(severities), hours, escape, passthrough)


def _time(text: str) -> time:
    hour, minute = (int(p) for p in text.split(":"))
    return time(hour, minute)


def _line_of(text: str, table: str) -> int | None:
    found = re.search(rf"^[ \t]*\[[ \t]*{table}[ \t]*\]", text, re.MULTILINE)
    return text.count("\n", 0, found.start()) + 1 if found else None
