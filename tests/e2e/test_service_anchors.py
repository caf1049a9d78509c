"""`eim service` anchors the timeline on a schedule (`[audit]` in config.toml, issue 13): the chain
head appended to a file and mailed to a real SMTP server, at start and whenever it has moved; the
file then catches the re-hash attack that `eim audit verify` alone cannot; and `--check` names
each mistake in `[audit]` with its line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eim_tui.bootstrap import open_services
from eim_tui.domain.intake import NewIncident
from tests.cli.test_audit_anchor import _rehash_from
from tests.e2e.test_service import CONFIG, ROOT, Service
from tests.notify.receivers import Mailbox, wait_for

pytestmark = pytest.mark.e2e


def _eim(store: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "eim_tui", "--db", f"sqlite:///{store}", *args], capture_output=True,
                          text=True, cwd=ROOT, env=env or os.environ.copy(), timeout=60, check=False)


def _log(store: Path, title: str) -> None:
    svc = open_services(f"sqlite:///{store}")
    try:
        svc.log_incident(NewIncident(title=title, impact=3, urgency=3), "alice")
    finally:
        svc.db.dispose()


def _anchors(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_the_service_anchors_at_start_and_when_the_head_moves_and_the_file_catches_a_rehash(tmp_path: Path) -> None:
    store, kept = tmp_path / "eim.db", tmp_path / "audit" / "anchors.jsonl"
    kept.parent.mkdir()
    _log(store, "Printer queue stuck on floor 3")
    with Mailbox() as box:
        config = (f'{CONFIG}\n[audit]\nanchor_every = "1s"\nanchor_file = "{kept}"\n'
                  f'anchor_to = ["{box.url("audit@example.com")}"]\n')
        service = Service(f"sqlite:///{store}", tmp_path, config).start()
        try:
            first = wait_for(lambda: _anchors(kept), "the first anchor")[0]
            time.sleep(2.5)  # two more ticks: the head has not moved, nothing is appended
            assert len(_anchors(kept)) == 1
            _log(store, "VPN drops every 10 minutes")
            second = wait_for(lambda: _anchors(kept)[1:], "the anchor after the head moved")[0]
            mails = wait_for(lambda: box.messages[1:] and box.messages, "both anchor mails")
        finally:
            assert service.stop() == 0
    assert first["seq"] >= 1 and second["seq"] > first["seq"] and second["hash"] != first["hash"]
    assert [m["subject"] for m in mails] == [f"eim audit anchor: event {first['seq']}",
                                            f"eim audit anchor: event {second['seq']}"]
    assert json.JSONDecoder().raw_decode(mails[0]["body"].strip())[0] == first  # the line, then what to do with it
    assert mails[0]["to"] == "audit@example.com" and "eim audit verify --anchor" in mails[0]["body"]
    log = service.log()
    assert f"anchored the timeline at event {first['seq']} ({first['hash'][:12]}…) to {kept}, mailto" in log

    verified = _eim(store, "audit", "verify", "--anchor", str(kept))
    assert verified.returncode == 0 and verified.stdout.startswith("timeline intact"), verified
    _rehash_from(store, 1, "nothing to see here")
    assert _eim(store, "audit", "verify").stdout.startswith("timeline intact")  # the chain alone is fooled
    caught = _eim(store, "audit", "verify", "--anchor", str(kept))
    assert caught.returncode == 1 and "no longer passes through the head anchored" in caught.stdout, caught


def test_check_names_each_mistake_in_the_audit_table(tmp_path: Path) -> None:
    store, config = tmp_path / "eim.db", tmp_path / "config.toml"
    env = {**os.environ, "EIM_CONFIG": str(config)}
    _log(store, "Disk full on db01")
    cases = {
        '[audit]\nanchor_every = "1h"\n': "line 2: [audit] an anchor needs somewhere to go",
        '[audit]\nanchor_every = "often"\nanchor_file = "a.jsonl"\n': "line 2: [audit] anchor_every must be a duration",
        '[audit]\nanchor_every = "1h"\nanchor_file = "/no/such/folder/a.jsonl"\n':
            "line 3: [audit] anchor_file: the folder '/no/such/folder' does not exist",
        '[audit]\nanchor_every = "1h"\nanchor_to = ["bogus://x"]\n': "line 3: [audit] 'bogus://x' is not a notification URL",
        '[audit]\nanchor_file = "a.jsonl"\n': "line 1: [audit] say how often to anchor",
        '[audit]\nanchor_evry = "1h"\n': "line 2: [audit] unknown setting 'anchor_evry'",
    }
    for text, expected in cases.items():
        config.write_text(text)
        done = _eim(store, "service", "--check", env=env)
        assert done.returncode == 2, (text, done)
        assert f"{config}: {expected}" in done.stderr.splitlines()[0], (text, done.stderr)
        assert "Traceback" not in done.stderr
    config.write_text(f'[audit]\nanchor_every = "1h"\nanchor_file = "{tmp_path / "a.jsonl"}"\n')
    done = _eim(store, "service", "--check", env=env)
    assert done.returncode == 0, done.stderr
