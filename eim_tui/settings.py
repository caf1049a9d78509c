"""Per-user settings from `config.toml` in the user's config directory (or `EIM_CONFIG`).

    [keymap]                 # binding id = keys, e.g. remap the filter bar to f
    "queue.filter" = "f"

A malformed file is reported with its path and line; eim then refuses to start rather than guess.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class SettingsError(Exception):
    pass


@dataclass(frozen=True)
class Settings:
    keymap: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None


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
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        where = f": line {line.group(1)}" if line else ""
        raise SettingsError(f"{path}{where}: {str(exc).split(' (at')[0]}; fix the TOML there") from None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read it ({exc.strerror})") from None
    keymap = data.get("keymap", {})
    if not isinstance(keymap, dict) or not all(isinstance(v, str) for v in keymap.values()):
        raise SettingsError(f'{path}: [keymap] must map binding ids to keys, e.g. "queue.filter" = "f"')
    return Settings(keymap=dict(keymap), raw=data, path=path)
