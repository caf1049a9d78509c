"""Per-user settings from `config.toml` in the user's config directory (or `EIM_CONFIG`).

    [keymap]                 # binding id = keys, e.g. remap the filter bar to f
    "queue.filter" = "f"

    [alerts]                 # SLA alerts: see alert_settings.py
    channels = ["toast", "bell", "terminal"]

    [wall]                   # `eim wall`: ring the bell on a new Sev1 or a fresh breach
    bell = true

A malformed file is reported with its path and line; eim then refuses to start rather than guess.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eim_tui.config_alerts import AlertSettings, AlertSettingsError, parse_alert_settings


class SettingsError(Exception):
    pass


@dataclass(frozen=True)
class Settings:
    keymap: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    alerts: AlertSettings = field(default_factory=AlertSettings)
    wall_bell: bool = False  # [wall] bell = true: the wall board rings on a new Sev1 or a fresh breach


def config_path() -> Path:
    if explicit := os.environ.get("EIM_CONFIG"):
        return Path(explicit).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("eim")) / "config.toml"


def load_settings(path: Path | None = None) -> Settings:
    path = path or config_path()
    if not path.exists():
        return Settings(path=path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        where = f": line {line.group(1)}" if line else ""
        raise SettingsError(f"{path}{where}: {str(exc).split(' (at')[0]}; fix the TOML there") from None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read it ({exc.strerror})") from None
    keymap = data.get("keymap", {})
    if not isinstance(keymap, dict) or not all(isinstance(v, str) for v in keymap.values()):
        raise SettingsError(f'{path}: [keymap] must map binding ids to keys, e.g. "queue.filter" = "f"')
    try:
        alerts = parse_alert_settings(data, path, text)
    except AlertSettingsError as exc:
        raise SettingsError(str(exc)) from None
    wall = data.get("wall", {})
    if not isinstance(wall, dict) or not isinstance(wall.get("bell", False), bool):
        raise SettingsError(f"{path}: [wall] bell must be true or false")
    return Settings(keymap=dict(keymap), raw=data, path=path, alerts=alerts, wall_bell=wall.get("bell", False))
