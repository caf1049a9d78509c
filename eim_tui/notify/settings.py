"""What `eim service` reads from config.toml besides `[alerts]`: the `[notify]` table, and the
stakeholder-update cadence `[updates]` (checked here so a zero cadence stops the service at start).

    [notify]
    default = ["mailto://eim:pass@smtp.example.com?to=oncall@example.com"]  # people without channels
    attempts = 5            # tries per delivery before it is recorded failed
    backoff = "30s"         # wait before the first retry; doubles each time, at most 15m
    lease = "2m"            # a claim older than this (its service gone quiet) is sent again
    heartbeat = "5s"        # how often the service says it is running
    quiet_severities = [1]  # in [alerts] quiet_hours, only these go at once; the rest wait

    [updates]
    cadence = { 1 = "30m", 2 = "60m" }   # stakeholder updates due every … per severity

    [audit]
    anchor_every = "1h"     # record the timeline's chain head this often (and at start)
    anchor_file = "/mnt/audit/eim-anchors.jsonl"   # appended to: keep it where the store's writers cannot rewrite it
    anchor_to = ["mailto://…?to=audit@example.com"]  # and/or sent through these channels

Every problem is one line naming the file and the line, so `--check` can list them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from eim_tui.config import Config, read_regular_text
from eim_tui.domain.durations import parse_duration
from eim_tui.notify.channels import check_url
from eim_tui.services.notifications import DeliveryPolicy

KEYS = ("default", "attempts", "backoff", "lease", "heartbeat", "quiet_severities")
AUDIT_KEYS = ("anchor_every", "anchor_file", "anchor_to")


@dataclass(frozen=True)
class ServiceSettings:
    policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    lease: timedelta = timedelta(minutes=2)
    heartbeat: timedelta = timedelta(seconds=5)
    cadence: dict[int, timedelta] = field(default_factory=dict)
    anchors: AnchorSettings | None = None  # None: the service takes no anchors


@dataclass(frozen=True)
class AnchorSettings:
    """`[audit]`: the chain head recorded every `every`, appended to `file` and/or sent to `to`."""

    every: timedelta
    file: str = ""
    to: tuple[str, ...] = ()


def read_settings(config: Config) -> tuple[ServiceSettings, list[str]]:
    """The settings, and every problem found (an empty list: all is well)."""
    text = _text(config.path)
    where = str(config.path) if config.path else "config.toml"
    problems: list[str] = []

    def problem(table: str, key: str | None, message: str) -> None:
        line = _line(text, table, key)
        problems.append(f"{where}{f': line {line}' if line else ''}: [{table}] {message}")

    table = config.raw.get("notify", {})
    if not isinstance(table, dict):
        problem("notify", None, "must be a table of settings")
        table = {}
    for key in sorted(set(table) - set(KEYS)):
        problem("notify", key, f"unknown setting {key!r}; use {', '.join(KEYS)}")
    defaults = table.get("default", [])
    if not isinstance(defaults, list) or not all(isinstance(u, str) for u in defaults):
        problem("notify", "default", 'default must be a list of URLs, like ["mailto://…", "ntfy://…"]')
        defaults = []
    for url in defaults:
        if (wrong := check_url(url)) is not None:
            problem("notify", "default", wrong)
    attempts = table.get("attempts", 5)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        problem("notify", "attempts", f"attempts must be a whole number of at least 1, not {attempts!r}")
        attempts = 5
    durations = {}
    for key, default in (("backoff", "30s"), ("lease", "2m"), ("heartbeat", "5s")):
        durations[key] = _positive(table.get(key, default), key, lambda m, k=key: problem("notify", k, m)) \
            or parse_duration(default)
    quiet = table.get("quiet_severities", [1])
    if not isinstance(quiet, list) or any(isinstance(s, bool) or s not in range(1, 6) for s in quiet):
        problem("notify", "quiet_severities", f"quiet_severities must be a list of 1 … 5, not {quiet!r}")
        quiet = [1]
    cadence = _cadence(config.raw.get("updates", {}), lambda key, m: problem("updates", key, m))
    policy = DeliveryPolicy(
        defaults=tuple(defaults), severities=config.alerts.severities, quiet_hours=config.alerts.quiet_hours,
        quiet_severities=frozenset(quiet), attempts=attempts, backoff=durations["backoff"],
    )
    anchors = _anchors(config.raw.get("audit", {}), lambda key, m: problem("audit", key, m))
    return ServiceSettings(policy, durations["lease"], durations["heartbeat"], cadence, anchors), problems


def _anchors(table: Any, problem) -> AnchorSettings | None:
    if not isinstance(table, dict):
        problem(None, 'must be a table, like anchor_every = "1h"')
        return None
    for key in sorted(set(table) - set(AUDIT_KEYS)):
        problem(key, f"unknown setting {key!r}; use {', '.join(AUDIT_KEYS)}")
    if "anchor_every" not in table:
        if "anchor_file" in table or "anchor_to" in table:
            problem(None, 'say how often to anchor: anchor_every = "1h"')
        return None
    every = _positive(table["anchor_every"], "anchor_every", lambda m: problem("anchor_every", m))
    file = table.get("anchor_file", "")
    if not isinstance(file, str):
        problem("anchor_file", f'anchor_file must be a file path, like "/mnt/audit/eim-anchors.jsonl", not {file!r}')
        file = ""
    elif file:
        folder = Path(file).expanduser().parent
        if not folder.is_dir():
            problem("anchor_file", f"anchor_file: the folder {str(folder)!r} does not exist; make it or name another")
    to = table.get("anchor_to", [])
    if not isinstance(to, list) or not all(isinstance(u, str) for u in to):
        problem("anchor_to", 'anchor_to must be a list of URLs, like ["mailto://…", "ntfy://…"]')
        to = []
    for url in to:
        if (wrong := check_url(url)) is not None:
            problem("anchor_to", wrong)
    if not file and not to:
        problem("anchor_every", "an anchor needs somewhere to go: set anchor_file, anchor_to or both")
        return None
    if every is None:
        return None
    return AnchorSettings(every, str(Path(file).expanduser()) if file else "", tuple(to))


def _positive(value: Any, key: str, problem) -> timedelta | None:
    try:
        found = parse_duration(value) if isinstance(value, str) else None
    except ValueError:
        found = None
    if found is None:
        problem(f"{key} must be a duration like 30s, 5m or 1h, not {value!r}")
        return None
    if found <= timedelta(0):
        problem(f"{key} must be more than 0, not {value!r}")
        return None
    return found


def _cadence(table: Any, problem) -> dict[int, timedelta]:
    if not isinstance(table, dict):
        problem(None, "must be a table, like cadence = { 1 = \"30m\", 2 = \"60m\" }")
        return {}
    cadence = table.get("cadence", {})
    if not isinstance(cadence, dict):
        problem("cadence", 'cadence must map severities to durations, like { 1 = "30m", 2 = "60m" }')
        return {}
    found = {}
    for severity, value in cadence.items():
        if not str(severity).isdigit() or int(severity) not in range(1, 6):
            problem("cadence", f"cadence: {severity!r} is not a severity; use 1 … 5")
            continue
        every = _positive(value, f"cadence for Sev{severity}", lambda m: problem("cadence", m))
        if every is not None:
            found[int(severity)] = every
    return found


def _text(path: Path | None) -> str:
    try:
        return read_regular_text(path) if path is not None and path.exists() else ""
    except (OSError, UnicodeDecodeError):
        return ""


def _line(text: str, table: str, key: str | None) -> int | None:
    """The line of `key = …` in `[table]` (or of the table's header)."""
    header = re.search(rf"^[ \t]*\[[ \t]*{re.escape(table)}[ \t]*\][ \t]*(#.*)?$", text, re.MULTILINE)
    if header is None:
        return None
    line = text.count("\n", 0, header.start()) + 1
    if key is None:
        return line
    for offset, content in enumerate(text[header.end():].split("\n")[1:], start=1):
        if re.match(r"^[ \t]*\[", content):
            break
        if re.match(rf"^[ \t]*\"?{re.escape(key)}\"?[ \t]*=", content):
            return line + offset
    return line
