"""`eim similar KEY [--json]` and `eim list --filter 'text:…'`: the full-text index from a shell."""

from __future__ import annotations


def _resolved(eim, title: str, fix: str, *extra: str) -> str:
    key = eim.new(title, *extra)
    eim("ack", key)
    eim("resolve", key, "--code", "fixed", "--notes", fix)
    return key


def test_similar_json_lists_resolved_ones_with_how_they_were_resolved(eim) -> None:
    twin = _resolved(eim, "Replication slot fills the WAL disk on db01", "dropped the stale slot")
    for title in ("Printer jams on floor 3", "VPN disconnects every ten minutes", "Payroll export late"):
        _resolved(eim, title, "cleared the tray")  # (bm25 weighs a word by how few incidents hold it)
    asked = eim.new("WAL disk full on db01 again", "--description", "replication slot never dropped")
    out = eim("similar", asked, "--json").json
    assert out["key"] == asked and [s["key"] for s in out["similar"]] == [twin]
    [similar] = out["similar"]
    assert set(similar) == {"key", "title", "state", "score", "resolution_code", "resolution_notes", "resolved_at"}
    assert (similar["state"], similar["resolution_code"], similar["resolution_notes"]) == (
        "resolved", "fixed", "dropped the stale slot")
    assert similar["resolved_at"].endswith("Z") and similar["score"] > 0
    text = eim("similar", asked).out
    assert twin in text and "dropped the stale slot" in text


def test_the_text_filter_finds_notes_and_resolutions(eim) -> None:
    first = eim.new("Checkout hangs")
    eim("note", first, "--kind", "finding", "--text", "deadlock between cart and warehouse sync")
    second = _resolved(eim, "Badge readers offline", "rebooted the controller")
    assert [r["key"] for r in eim("list", "--json", "--filter", "text:deadlock").json] == [first]
    assert [r["key"] for r in eim("list", "--json", "--filter", 'text:"rebooted controller" all').json] == [second]
    assert eim("list", "--json", "--filter", "text:deadlock text:badge all").json == []


def test_bad_input_is_one_line_and_exit_2(eim) -> None:
    eim.new()
    for args in (["similar", "INC-999999"], ["similar", "nonsense"], ["list", "--filter", "text:"],
                 ["similar", "INC-000001", "--limit", "0"]):
        result = eim(*args, ok=False)
        assert result.status == 2 and len(result.err.strip().splitlines()) == 1, result
        assert "Traceback" not in result.err


def test_similar_never_matches_on_stop_words_on_either_backend(eim_on) -> None:
    """`eim similar` on SQLite and PostgreSQL: "the", "is", "was" match nothing (PostgreSQL's
    english configuration drops them; the query leaves them out on SQLite too), and a text filter of
    common words only is refused alike."""
    vpn = _resolved(eim_on, "The VPN is down", "restarted the concentrator")
    _resolved(eim_on, "It was the disk", "replaced it")
    asked = eim_on.new("The printer is jammed and it was slow")
    assert eim_on("similar", asked, "--json").json["similar"] == []
    slow = eim_on.new("The VPN is slow")
    assert [s["key"] for s in eim_on("similar", slow, "--json").json["similar"]] == [vpn]
    result = eim_on("list", "--filter", "text:the", ok=False)
    assert result.status == 2 and "too common to search for" in result.err and len(result.err.splitlines()) == 1
