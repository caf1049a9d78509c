"""Audit that travels: anchors of the chain head kept outside the store, and the chain as a file an
auditor verifies with no database (issue 13).

The hash chain alone proves nothing against someone who can rewrite every row and re-hash them.
An *anchor* — the head's sequence number and hash at a moment, written where the store's writers
cannot reach (a ticket, an e-mail, an append-only file) — closes that: `verify_anchors` proves the
chain still passes through every anchored head, so rewriting anything before an anchor is caught.

`export_lines` writes the chain as JSON lines (every field the hash covers, plus the hashes);
`verify_lines` re-computes it from the file alone and names the first line changed, removed or
inserted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eim_tui.domain.errors import ValidationError
from eim_tui.domain.model import format_key
from eim_tui.store import audit_chain, timeline
from eim_tui.store.engine import Database
from eim_tui.store.timeline import GENESIS, event_hash

ANCHOR_FIELDS = ("seq", "hash", "at")


@dataclass(frozen=True, slots=True)
class Anchor:
    seq: int
    hash: str
    at: str  # ISO 8601, when it was taken

    def line(self) -> str:
        return json.dumps({"eim_anchor": 1, "seq": self.seq, "hash": self.hash, "at": self.at}, sort_keys=True)


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    message: str
    events: int = 0  # verified, by content or (`hidden` of them) by their links only
    hidden: int = 0
    broken_at: int | None = None
    reason: str = ""  # what is broken there, without the "timeline BROKEN at …" prefix


def take_anchor(db: Database, now: datetime) -> Anchor:
    with db.read() as session:
        seq, digest = audit_chain.head(session)
    return Anchor(seq, digest, now.isoformat())


def read_anchors(lines: Iterable[str], source: str) -> list[Anchor]:
    """Anchors from a file of `eim audit anchor` lines (blank lines and `#` comments skipped)."""
    anchors = []
    for number, raw in enumerate(lines, 1):
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        try:
            item = json.loads(raw)
            anchor = Anchor(int(item["seq"]), str(item["hash"]), str(item.get("at", "")))
        except (ValueError, KeyError, TypeError):
            raise ValidationError(f"{source}: line {number} is not an anchor from `eim audit anchor`") from None
        if len(anchor.hash) != 64 or anchor.seq < 0:
            raise ValidationError(f"{source}: line {number} is not an anchor from `eim audit anchor`")
        anchors.append(anchor)
    if not anchors:
        raise ValidationError(f"{source} holds no anchors; make one with `eim audit anchor --out {source}`")
    return anchors


def verify_anchors(db: Database, anchors: list[Anchor]) -> Verdict:
    """The chain verifies and passes through every anchored head."""
    linked = verify_links(db)
    if linked is not None and not linked.ok:
        return linked
    with db.read() as session:
        report = timeline.verify(session)
        if linked is None and not report.intact:
            return Verdict(False, report.describe())
        head_seq, _ = audit_chain.head(session)
        for anchor in anchors:
            if anchor.seq == 0:
                continue
            if anchor.seq > head_seq:
                return Verdict(False, f"timeline BROKEN: the anchor of {anchor.at} is at event {anchor.seq} but the "
                                      f"chain ends at {head_seq} (events removed)")
            found = audit_chain.hash_at(session, anchor.seq)
            if found != anchor.hash:
                return Verdict(False, f"timeline BROKEN: the chain no longer passes through the head anchored "
                                      f"{anchor.at} (event {anchor.seq}): it was rewritten at or before that event")
    last = max(anchors, key=lambda a: a.seq)
    events = report.events if linked is None else head_seq
    return Verdict(True, f"timeline intact: {events} events, every link verified, and it passes through "
                         f"{len(anchors)} anchor(s), the latest at event {last.seq} ({last.at})")


def verify_links(db: Database, batch: int = 5000) -> Verdict | None:
    """PostgreSQL, for a login outside the security group (row-level security hides confidential
    events from it): every link of the chain through `eim_chain_links` (numbers and hashes only),
    and the content of every event it can read. None when this login reads every event."""
    if db.dialect != "postgresql":
        return None
    from sqlalchemy import select, text

    from eim_tui.store.tables import TimelineRow

    with db.read() as session:
        if session.execute(text("SELECT eim_sees_confidential()")).scalar():
            return None
        prev, expected, last, hidden = GENESIS, 1, 0, 0
        while True:
            links = session.execute(text("SELECT seq, prev_hash, hash FROM eim_chain_links(:a, :n)"),
                                    {"a": last, "n": batch}).all()
            if not links:
                break
            rows = {r.seq: r for r in session.execute(select(TimelineRow).where(
                TimelineRow.seq > last, TimelineRow.seq <= links[-1].seq)).scalars()}
            for seq, prev_hash, digest in links:
                if seq != expected:
                    return _broken(expected, f"event {expected} is missing (next is {seq})")
                if prev_hash != prev:
                    return _broken(seq, f"seq {seq} does not link to the event before it")
                row = rows.get(seq)
                if row is None:
                    hidden += 1
                elif row.hash != digest or event_hash(row.seq, row.incident_id, row.at, row.actor, row.kind,
                                                      row.summary, row.data, row.prev_hash) != digest:
                    where = f"seq {seq} ({format_key(row.incident_id)}, {row.kind})"
                    return _broken(seq, f"{where} was altered after it was written")
                prev, expected, last = digest, seq + 1, seq
            session.expunge_all()
        head_seq, head_hash = audit_chain.head(session)
    if (head_seq, head_hash) != (last, prev) and head_seq:
        return _broken(last + 1, f"the chain head says {head_seq} events but {last} were found (events deleted at "
                                 "the end)")
    return Verdict(True, f"timeline intact: {last} events, every link verified ({hidden} confidential event(s) by "
                         "their links only: the security group verifies their content)", last, hidden)


def _broken(seq: int, reason: str) -> Verdict:
    return Verdict(False, f"timeline BROKEN at event {seq}: {reason}", broken_at=seq, reason=reason)


def export_lines(db: Database, since: datetime | None = None) -> Iterator[str]:
    with db.read() as session:
        for row in audit_chain.events(session, since):
            yield json.dumps({
                "seq": row.seq, "incident_id": row.incident_id, "at": row.at.isoformat(), "actor": row.actor,
                "kind": row.kind, "summary": row.summary, "data": row.data, "prev_hash": row.prev_hash,
                "hash": row.hash,
            }, ensure_ascii=False, sort_keys=True)


def verify_lines(lines: Iterable[str], source: str, anchors: list[Anchor] = ()) -> Verdict:
    """Verify an exported chain with no database: each line hashes to what it says and links to the
    line before it. The first line may start anywhere (`--since`); event 1 must link to genesis."""
    previous: dict[str, Any] | None = None
    before_previous: dict[str, Any] | None = None
    count = 0
    hashes: dict[int, str] = {}
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
            at = datetime.fromisoformat(row["at"])
            seq = int(row["seq"])
            fields = (seq, row["incident_id"], at, row["actor"], row["kind"], row["summary"], row["data"],
                      row["prev_hash"])
        except (ValueError, KeyError, TypeError):
            return Verdict(False, f"{source}: line {number} is not a timeline event from `eim audit export`")
        key = format_key(row["incident_id"]) if isinstance(row["incident_id"], int) else "?"
        where = f"line {number} (seq {seq}, {key}, {row['kind']})"
        if previous is None:
            if seq == 1 and row["prev_hash"] != GENESIS:
                return Verdict(False, f"timeline BROKEN at {where}: the first event does not start the chain")
        else:
            expected = previous["seq"] + 1
            if row["prev_hash"] != previous["hash"]:
                if seq < expected:
                    return Verdict(False, f"timeline BROKEN: {where} repeats seq {seq} (inserted)")
                if before_previous is not None and row["prev_hash"] == before_previous["hash"]:
                    return Verdict(False, f"timeline BROKEN: line {number - 1} (seq {previous['seq']}) was inserted: "
                                          f"{where} links to the event before it")
                if seq > expected:
                    return Verdict(False, f"timeline BROKEN: event {expected} is missing before {where} (removed)")
                return Verdict(False, f"timeline BROKEN at {where}: it does not link to the line before it")
            if seq != expected:
                return Verdict(False, f"timeline BROKEN at {where}: its number should be {expected} (renumbered)")
        if event_hash(*fields) != row["hash"]:
            return Verdict(False, f"timeline BROKEN at {where}: it was altered after it was written")
        hashes[seq] = row["hash"]
        before_previous, previous = previous, {"seq": seq, "hash": row["hash"]}
        count += 1
    if previous is None:
        return Verdict(False, f"{source} holds no timeline events")
    for anchor in anchors:
        if anchor.seq > previous["seq"]:
            return Verdict(False, f"timeline BROKEN: the anchor of {anchor.at} is at event {anchor.seq} but "
                                  f"{source} ends at {previous['seq']} (events removed)")
        if anchor.seq in hashes and hashes[anchor.seq] != anchor.hash:
            return Verdict(False, f"timeline BROKEN: {source} does not pass through the head anchored {anchor.at} "
                                  f"(event {anchor.seq}): rewritten at or before that event")
    return Verdict(True, f"timeline intact: {count} events in {source}, every link verified"
                         + (f" (from event {min(hashes)})" if min(hashes) > 1 else ""))
