"""`eim audit verify`, `eim db upgrade`, `eim demo`, and where the store is: --db, EIM_DB, default."""

from __future__ import annotations

import sqlite3

from eim_tui.store import HEAD_REVISION

from .conftest import Eim


def test_audit_verify_names_the_tampered_event(eim, tmp_path) -> None:
    eim.new()
    eim("ack", "INC-000001")
    eim("note", "1", "--kind", "finding", "--text", "the PSP rotated its certificate")
    intact = eim("audit", "verify")
    timeline, catalogue, problems = intact.out.splitlines()  # the incidents' chain, the catalogue's, the problems'
    assert timeline == "timeline intact: 4 events, every link verified" and intact.err == ""
    assert catalogue.startswith("catalogue history intact: ")
    assert problems.startswith("problem timeline intact: ")

    with sqlite3.connect(tmp_path / "x.db") as conn:
        conn.execute("UPDATE timeline_event SET summary = 'nothing to see' WHERE seq = 3")
    broken = eim("audit", "verify", ok=False)
    assert broken.status == 1
    assert broken.out.startswith("timeline BROKEN at event 3: seq 3 (INC-000001, assigned) was altered")

    with sqlite3.connect(tmp_path / "x.db") as conn:
        conn.execute("DELETE FROM timeline_event WHERE seq >= 3")
    truncated = eim("audit", "verify", ok=False)
    assert truncated.status == 1 and "BROKEN at event 3" in truncated.out and "deleted at the end" in truncated.out


def test_db_upgrade_creates_a_new_store_and_prints_the_revision(eim, tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/new/dir/store.db"
    first = eim("db", "upgrade", db=url)
    assert first.out == f"schema at revision {HEAD_REVISION}\n"
    assert (tmp_path / "new" / "dir" / "store.db").exists()
    assert eim("db", "upgrade", db=url).out == first.out  # again: nothing to do, same answer
    assert eim("new", "--title", "works", "--impact", "2", "--urgency", "2", db=url).out == "INC-000001\n"


def test_demo_fills_the_store(eim) -> None:
    assert eim("demo", "--incidents", "30", "--seed", "3").out == "added 30 demo incidents\n"
    listing = eim("list", "--json").json
    assert listing and len(listing) <= 30
    everything = eim("list", "--json", "--filter", "all").json
    assert len(everything) == 30
    assert {r["state"] for r in everything} >= {"new", "in_progress", "on_hold", "resolved", "closed", "cancelled"}
    assert eim("audit", "verify").out.startswith("timeline intact")


def test_eim_db_works_instead_of_db(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/from-env.db"
    eim = Eim(None, tmp_path)
    assert eim("new", "--title", "from the environment", "--impact", "2", "--urgency", "2",
               env={"EIM_DB": url}).out == "INC-000001\n"
    assert (tmp_path / "from-env.db").exists()
    assert [r["title"] for r in eim("list", "--json", env={"EIM_DB": url}).json] == ["from the environment"]
    # --db wins over EIM_DB
    other = f"sqlite:///{tmp_path}/explicit.db"
    assert eim("list", "--json", db=other, env={"EIM_DB": url}).json == []


def test_without_db_or_eim_db_the_store_is_in_the_users_data_directory(tmp_path) -> None:
    eim = Eim(None, tmp_path)
    assert eim("new", "--title", "default store", "--impact", "3", "--urgency", "3").out == "INC-000001\n"
    assert (tmp_path / "data" / "eim" / "eim.db").exists()
