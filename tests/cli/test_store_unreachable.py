"""Every `eim` verb, pointed at a store that cannot be reached, says so in one line and exits 2:
`eim: store unreachable: PostgreSQL at HOST:PORT: connection refused (check --db / EIM_DB)` —
never a traceback, never the driver's own text.

The store is a PostgreSQL URL on a loopback port where nothing listens (a real refused
connection), given by `--db` and by `EIM_DB`. The verbs come from the parser itself, so a verb
added later without a case here fails `test_every_verb_has_a_case`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

from eim_tui.cli.main import build_parser
from tests.pg_cluster import spare_port

EIM = [sys.executable, "-m", "eim_tui"]
KEY = "INC-000001"

# The arguments each verb needs to get past argparse; the store is the only thing wrong. None: the
# verb does not use the store (`alerts test` tries the alert channels only).
CASES: dict[str, list[str] | None] = {
    "": [],  # `eim` alone: the TUI
    "demo": ["demo", "--incidents", "3"],
    "new": ["new", "--title", "VPN drops", "--impact", "2", "--urgency", "2"],
    "list": ["list", "--json"],
    "show": ["show", KEY],
    "audit": ["audit", "verify"],
    "db": ["db", "upgrade"],
    "ack": ["ack", KEY],
    "assign": ["assign", KEY, "--group", "network"],
    "prioritize": ["prioritize", KEY, "--impact", "1", "--urgency", "1"],
    "categorize": ["categorize", KEY, "--category", "network"],
    "hold": ["hold", KEY, "--reason", "awaiting_user"],
    "resume": ["resume", KEY],
    "note": ["note", KEY, "--kind", "observation", "--text", "packet loss on core1"],
    "resolve": ["resolve", KEY, "--code", "fixed", "--notes", "restarted"],
    "close": ["close", KEY],
    "reopen": ["reopen", KEY, "--reason", "came back"],
    "cancel": ["cancel", KEY, "--reason", "duplicate"],
    "link": ["link", KEY, "--problem", "PRB-1"],
    "major": ["major", KEY],
    "export": ["export", "--format", "json"],
    "users": ["users", "list"],
    "ingest": ["ingest", "--listen", "127.0.0.1:0"],
    "payloads": ["payloads"],
    "wall": ["wall"],
    "serve": ["serve"],
    "alerts": None,
    "service": ["service"],
    "groups": ["groups", "show", "network"],
    "services": ["services", "list"],
    "cis": ["cis", "list"],
    "categories": ["categories", "list"],
    "sla": ["sla", "list"],
    "routing": ["routing", "list"],
    "escalation": ["escalation", "list"],
    "catalog": ["catalog", "export"],
    "status": ["status"],
    "ssh": ["ssh", "authorized-keys"],
    "role": ["role", KEY, "--commander", "bob"],
    "task": ["task", "add", KEY, "--what", "fail over"],
    "actions": ["actions", "--open"],
    "update": ["update", KEY, "--text", "failing over"],
    "subscribe": ["subscribe", KEY, "--user", "bob"],
    "unsubscribe": ["unsubscribe", KEY, "--user", "bob"],
    "import": ["import", "servicenow", "events.csv"],
    "report": ["report", "--by", "month"],
    "patterns": ["patterns", "--window", "all", "--json"],  # the whole history: no window to read first
    "change": ["change", "list", "--json"],
    "problem": ["problem", "list", "--json"],
    "similar": ["similar", KEY, "--json"],
}


def verbs() -> set[str]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


@pytest.fixture(scope="module")
def dead_url() -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{spare_port()}/eim"


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EIM, *argv], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                          env={**os.environ, "EIM_USER": "alice", "NO_COLOR": "1", **env})


def test_every_verb_has_a_case() -> None:
    missing = verbs() - set(CASES)
    assert not missing, f"add a case for {sorted(missing)} to CASES"


@pytest.mark.parametrize("verb", sorted(CASES))
def test_a_store_that_cannot_be_reached_is_one_line_and_exit_2(verb: str, dead_url: str) -> None:
    if verb and verb not in verbs():
        pytest.skip(f"`eim {verb}` is not in this build")
    if CASES[verb] is None:
        pytest.skip(f"`eim {verb}` does not use the store")
    port = dead_url.split(":")[-1].split("/")[0]
    expected = f"eim: store unreachable: PostgreSQL at 127.0.0.1:{port}: connection refused (check --db / EIM_DB)"
    ways = [(["--db", dead_url, *CASES[verb]], {})]
    if verb in ("", "list", "new"):  # the same store named by EIM_DB (one start of Python each: kept few)
        ways.append((CASES[verb], {"EIM_DB": dead_url}))
    for argv, env in ways:
        done = run(argv, env)
        assert done.returncode == 2, (argv, done.returncode, done.stderr)
        assert done.stderr.strip() == expected, done.stderr
        assert "Traceback" not in done.stdout + done.stderr


def test_a_store_url_with_an_unknown_host_says_so(dead_url: str) -> None:
    done = run(["list"], {"EIM_DB": "postgresql+psycopg://postgres@no-such-host.invalid/eim"})
    assert done.returncode == 2
    assert done.stderr.startswith("eim: store unreachable: ") and "(check --db / EIM_DB)" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
