"""The full-text index (store/search.py), on SQLite and PostgreSQL: current in the transaction of
each change, filled once by bulk loads, ranked for similar incidents, and blind to confidential
incidents for whoever may not see them."""

from __future__ import annotations

import importlib.util

import pytest
from sqlalchemy import select, text

from eim_tui.domain.filters import parse
from eim_tui.domain.model import NoteKind
from eim_tui.domain.queue import View
from eim_tui.services.demo import generate
from eim_tui.store import notes, search
from eim_tui.store.schema import MIGRATIONS_DIR
from eim_tui.store.tables import IncidentRow, SearchStateRow


def found(svc, query: str, user: str = "alice") -> list[int]:
    """The incidents `eim list --filter QUERY all` gives `user`, in key order."""
    return sorted(svc.queue(View.OPEN, parse(f"{query} all"), user, []))


def indexed(svc, number: int, words: str) -> bool:
    """Whether the index (not the services) finds `number` by `words`."""
    with svc.db.read() as session:
        return session.execute(
            select(IncidentRow.id).where(IncidentRow.id == number, search.TextMatch(words.split()))
        ).first() is not None


def test_a_change_is_findable_the_moment_it_commits(svc, log) -> None:
    incident = log(title="Checkout hangs", description="threads blocked on the inventory lock")
    other = log(title="Printer jams on floor 3")
    assert found(svc, 'text:"inventory lock"') == [incident.number]
    assert found(svc, "text:blocking") == [incident.number]  # stems: blocked ~ blocking
    svc.add_note(incident.number, "alice", "finding", "a deadlock between cart and warehouse sync")
    assert found(svc, "text:deadlock") == [incident.number]
    svc.acknowledge(incident.number, "alice")
    svc.resolve(incident.number, "alice", "fixed", "reordered the lock acquisition in cart-sync")
    assert found(svc, 'text:"reordered acquisition"') == [incident.number]
    assert found(svc, "text:deadlock text:printer") == []  # every text: term must hold
    assert found(svc, "text:printer") == [other.number]
    assert found(svc, "text:jam") == [other.number]  # prefix of the stem


def test_the_index_changes_in_the_same_transaction_and_rolls_back_with_it(svc, log) -> None:
    incident = log(title="VPN drops every ten minutes")

    class Abandon(Exception):
        pass

    with pytest.raises(Abandon), svc.db.write() as session:
        notes.insert_note(session, incident.number, NoteKind.OBSERVATION, "ipsec rekey storm", None, "", "alice",
                          svc.clock.now())
        # Inside the transaction the index already holds the note …
        assert session.execute(select(IncidentRow.id).where(search.TextMatch(["rekey"]))).scalars().all() == [
            incident.number]
        raise Abandon
    assert not indexed(svc, incident.number, "rekey")  # … and the rollback took it away with the note
    svc.add_note(incident.number, "alice", "observation", "ipsec rekey storm")
    assert indexed(svc, incident.number, "rekey")


def test_a_bulk_load_indexes_every_incident_once_and_turns_the_triggers_back_on(svc, log) -> None:
    generate(svc, incidents=40, seed=3)
    with svc.db.read() as session:
        numbers = session.execute(select(IncidentRow.id, IncidentRow.title)).all()
        assert session.execute(select(SearchStateRow.indexing)).scalar_one() is True
    for number, title in numbers:
        assert indexed(svc, number, " ".join(search_words_of(title))), title
    later = log(title="Badge readers offline in lobby")
    assert found(svc, "text:badge") == [later.number]


def search_words_of(title: str) -> list[str]:
    from eim_tui.domain.similarity import search_words

    return search_words(title)


@pytest.fixture
def history(svc, log):
    """Resolved incidents around a query "Disk full on db03": a twin, near ones, an unrelated one,
    an open twin and a confidential twin."""

    def resolved(title: str, fix: str, note: str = "", **fields):
        incident = log(title=title, **fields)
        if note:
            svc.add_note(incident.number, "alice", "finding", note)
        svc.acknowledge(incident.number, "alice")
        return svc.resolve(incident.number, "alice", "fixed", fix)

    made = {
        "twin": resolved("Disk full on db03", "rotated the audit logs"),
        "near": resolved("Disk almost full on db07", "grew the volume"),
        "by_note": resolved("Storage alert on the reporting host", "cleaned temp files", note="disk full again"),
        "unrelated": resolved("Printer jams on floor 3", "cleared the tray"),
        "secret": resolved("Disk full on db03 after intrusion", "wiped the attacker's files", category="security"),
    }
    made["open_twin"] = log(title="Disk full on db03")
    made["query"] = log(title="Disk full on db03", description="WAL volume at 100%")
    assert made["secret"].confidential
    return made


def test_similar_finds_resolved_ones_best_first_with_how_they_were_resolved(svc, history) -> None:
    similar = svc.similar_resolved(history["query"].number, viewer="alice")
    keys = [s.number for s in similar]
    assert keys[0] == history["twin"].number  # every title word, the shortest title
    assert set(keys) == {history[k].number for k in ("twin", "near", "by_note")}
    assert similar[0].resolution_code == "fixed" and similar[0].resolution_notes == "rotated the audit logs"
    assert similar[0].resolved_at is not None and similar[0].state.value == "resolved"
    assert similar[0].score >= similar[-1].score
    # Open incidents, and the incident itself, are never among them.
    assert history["open_twin"].number not in keys and history["query"].number not in keys


def test_confidential_incidents_never_match_outside_the_security_group(svc, history) -> None:
    svc.access.add_user("admin", "sam", "responder", groups=["security-ops"])
    secret = history["secret"].number
    assert secret not in [s.number for s in svc.similar_resolved(history["query"].number, viewer="alice")]
    assert secret in [s.number for s in svc.similar_resolved(history["query"].number, viewer="sam")]
    assert found(svc, "text:intrusion", "alice") == []
    assert found(svc, "text:intrusion", "sam") == [secret]
    with pytest.raises(Exception, match="confidential"):
        svc.similar_resolved(secret, viewer="alice")


def _migration_0012():
    path = MIGRATIONS_DIR / "versions" / "0012_full_text.py"
    spec = importlib.util.spec_from_file_location("migration_0012", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_runs_the_statements_a_new_store_runs() -> None:
    migration = _migration_0012()
    assert migration.SQLITE == search.statements("sqlite")
    assert migration.POSTGRESQL == search.statements("postgresql")


def test_the_definer_functions_are_not_for_everyone(svc, backend) -> None:
    if backend != "postgresql":
        pytest.skip("SECURITY DEFINER is PostgreSQL's")
    with svc.db.read() as session:
        rows = session.execute(text(
            "SELECT proname, prosecdef, has_function_privilege('public', oid, 'EXECUTE') AS public_may "
            "FROM pg_proc WHERE proname IN ('eim_search_document', 'eim_index_incident', 'eim_index_notes')"
        )).all()
    assert {r.proname for r in rows} == {"eim_search_document", "eim_index_incident", "eim_index_notes"}
    assert all(r.prosecdef and not r.public_may for r in rows)


def test_stop_words_match_nothing_on_either_backend(svc, log) -> None:
    """PostgreSQL's `english` configuration leaves stop words out of its index; SQLite's FTS5 keeps
    them. The services leave them out of every query on both, so both answer alike."""

    def resolved(title: str):
        incident = log(title=title)
        svc.acknowledge(incident.number, "alice")
        svc.resolve(incident.number, "alice", "fixed", "restarted it")
        return incident

    vpn = resolved("The VPN is down")
    resolved("It was the disk again")
    printer = log(title="The printer is jammed, it was down before")
    assert svc.similar_resolved(printer.number, viewer="alice") == []  # only "the", "is", "it", "was", "down" shared
    asked = log(title="The VPN is slow")
    assert [s.number for s in svc.similar_resolved(asked.number, viewer="alice")] == [vpn.number]
    assert found(svc, "text:vpn") == [vpn.number, asked.number]


def test_the_query_stop_words_are_postgresqls(svc, backend) -> None:
    """SEARCH_STOP_WORDS is the server's own list: each word leaves nothing in a tsvector, and a
    telling word does."""
    if backend != "postgresql":
        pytest.skip("the list is PostgreSQL's english configuration")
    from eim_tui.domain.similarity import SEARCH_STOP_WORDS

    with svc.db.read() as session:
        kept = session.execute(text(
            f"SELECT w FROM unnest(CAST(:words AS text[])) w WHERE to_tsvector('{search.TS_CONFIG}', w) <> ''"),
            {"words": sorted(SEARCH_STOP_WORDS | {"vpn", "disk", "outage"})}).scalars().all()
    assert sorted(kept) == ["disk", "outage", "vpn"] and len(SEARCH_STOP_WORDS) == 127
