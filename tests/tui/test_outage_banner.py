"""The store going away under the TUI (Pilot, a private PostgreSQL cluster stopped and started for
real): the banner, what is shown kept and said to be stale, writes refused with the typed text
kept as a local draft, and the reconnect with no restart — then the same for a store that can only
be read (a SQLite file on a read-only disk).

The cluster is this module's own (`tests/pg_cluster.py`), so stopping it touches nobody else.
Every wait polls the app with a deadline that only stops a hung test; `RETURN_DEADLINE` is the
requirement itself: the banner is gone within 5 s of the server taking connections again.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea

from eim_tui.bootstrap import open_services
from eim_tui.domain.drafts import NEW_INCIDENT, note_scope
from eim_tui.domain.intake import NewIncident
from eim_tui.domain.model import NoteKind
from eim_tui.tui.screens.notes import NotesScreen
from eim_tui.tui.screens.queue import QueueScreen
from eim_tui.tui.widgets.queue_table import QueueTable
from eim_tui.tui.widgets.store_banner import StoreBanner
from tests.pg_cluster import private_cluster

pytestmark = pytest.mark.e2e  # a server of its own, stopped and started: run with the serial ones
RETURN_DEADLINE = 5.0
DEADLINE = 30.0


@pytest.fixture(scope="module")
def cluster():
    made = private_cluster()
    try:
        yield made
    finally:
        made.cleanup()


@pytest.fixture
def svc(cluster, clock, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # local drafts go here
    if not cluster.running:
        cluster.start()
    services = open_services(cluster.url, clock)
    services.drafts._local_dir = tmp_path / "drafts"
    yield services
    if not cluster.running:
        cluster.start()
    services.db.dispose()


@pytest.fixture(autouse=True)
def quick_drafts(monkeypatch) -> None:
    monkeypatch.setattr(NotesScreen, "DRAFT_DELAY", 0.05)


async def wait_until(pilot: Pilot, predicate: Callable[[], object], what: str, timeout: float = DEADLINE) -> float:
    """Poll the app until `predicate` holds; returns the seconds it took."""
    began = time.monotonic()
    while not predicate():
        if time.monotonic() - began > timeout:
            raise AssertionError(f"gave up waiting {timeout:g} s for {what}")
        await pilot.pause(0.05)
    return time.monotonic() - began


def banner(app) -> str:
    found = app.screen.query(StoreBanner)
    return found.first().text if found else ""


def local_draft_files(svc) -> list[str]:
    root = svc.drafts.local.root
    return sorted(p.read_text() for p in root.rglob("*.json")) if root.exists() else []


async def test_the_queue_says_the_store_is_gone_keeps_its_rows_and_comes_back_by_itself(
    svc, cluster, app_factory
) -> None:
    first = svc.log_incident(NewIncident("Payments API returns 502", 1, 1, service="payments"), "bob")
    app = app_factory(svc, poll_interval=0.2)
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen)
                         and first.number in app.screen.query_one(QueueTable).numbers, "the queue")
        cluster.stop()
        await wait_until(pilot, lambda: "store unreachable since" in banner(app), "the outage banner")
        text = banner(app)
        assert "retrying" in text and "may be stale" in text and "kept as a draft" in text
        assert f"127.0.0.1:{cluster.port}" in text and "connection refused" in text
        queue = app.screen
        assert first.number in queue.query_one(QueueTable).numbers  # the last data stays on screen
        assert queue.has_class("-store-stale")
        assert not [n for n in app._notifications if n.severity == "error"], "the banner, not a toast per poll"

        # Someone else logs an incident while this TUI cannot see the store; it shows after the return.
        cluster.start()
        took = await wait_until(pilot, lambda: not banner(app), "the banner to go", timeout=RETURN_DEADLINE)
        assert took <= RETURN_DEADLINE
        other = open_services(cluster.url, svc.clock)
        second = other.log_incident(NewIncident("VPN drops every 5 minutes", 2, 2), "carol")
        other.db.dispose()
        await wait_until(pilot, lambda: second.number in queue.query_one(QueueTable).numbers, "fresh data")
        assert not queue.has_class("-store-stale")
        assert any("store answers again" in n.message for n in app._notifications)


async def test_a_note_saved_in_the_outage_is_refused_kept_as_a_local_draft_and_saved_after(
    svc, cluster, app_factory, type_text
) -> None:
    incident = svc.log_incident(NewIncident("Disk almost full on db01", 2, 2), "bob")
    app = app_factory(svc, poll_interval=0.2)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen), "the queue")
        app.push_screen(NotesScreen(incident.number))
        await wait_until(pilot, lambda: isinstance(app.screen, NotesScreen) and app.screen.details, "the notes")
        notes = app.screen
        cluster.stop()
        await wait_until(pilot, lambda: "store unreachable" in banner(app), "the outage banner")
        await pilot.press("o")
        await type_text(pilot, "iostat shows 100% util on sdb")
        await pilot.press("ctrl+s")
        status = notes.query_one("#notes-status", Static)
        await wait_until(pilot, lambda: "store unreachable" in str(status.render()), "the refusal")
        assert notes.editing is not None  # the editor stays open with the text in it
        assert notes.query_one(TextArea).text == "iostat shows 100% util on sdb"
        await wait_until(pilot, lambda: any("iostat shows" in f for f in local_draft_files(svc)), "the local draft")

        cluster.start()
        await wait_until(pilot, lambda: not banner(app), "the banner to go", timeout=RETURN_DEADLINE)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: notes.editing is None, "the note saved")
        saved = svc.details(incident.number).notes
        assert [(n.kind, n.text) for n in saved] == [(NoteKind.OBSERVATION, "iostat shows 100% util on sdb")]
        assert local_draft_files(svc) == []  # saved for real: the draft is gone on both sides
        assert svc.drafts.load(app.user, note_scope(incident.number)) is None
        assert svc.verify_chain().intact


async def test_the_new_incident_form_keeps_what_was_typed_and_offers_it_back_after_the_outage(
    svc, cluster, app_factory, type_text
) -> None:
    from eim_tui.tui.dialogs.new_incident import NewIncidentScreen

    app = app_factory(svc, poll_interval=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen), "the queue")
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NewIncidentScreen) and app.screen.draft.enabled,
                         "the form")
        form = app.screen
        cluster.stop()
        app.screen.query_one("#field-title", Input).focus()
        await type_text(pilot, "Mail relay rejects every message")
        await wait_until(pilot, lambda: any("Mail relay" in f for f in local_draft_files(svc)),
                         "the draft kept on this computer")
        await wait_until(pilot, lambda: "store unreachable" in banner(app), "the outage banner")
        assert form.query_one("#field-title", Input).value == "Mail relay rejects every message"

        cluster.start()
        await wait_until(pilot, lambda: not banner(app), "the banner to go", timeout=RETURN_DEADLINE)
    # A new session (the TUI restarted after the outage) finds the draft in the store: merged back.
    draft = svc.drafts.load("alice", NEW_INCIDENT)
    assert draft is not None and draft.content["title"] == "Mail relay rejects every message"
    assert local_draft_files(svc) == []
    stored = open_services(cluster.url, svc.clock)
    try:
        with stored.db.read() as session:
            from eim_tui.store.drafts import load_draft

            assert load_draft(session, "alice", NEW_INCIDENT) is not None
    finally:
        stored.db.dispose()


def _read_only_disk(tmp_path, svc_url_file) -> tuple[str, Callable[[], None]]:
    """The store's folder made unwritable: a tmpfs remounted read-only as root (root ignores file
    modes), else the file and its folder chmod'ed. Returns the folder and how to undo it."""
    folder = svc_url_file.parent
    if os.geteuid() == 0:
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        return str(folder), lambda: subprocess.run(["mount", "-o", "remount,rw", str(folder)], check=True)
    svc_url_file.chmod(0o444)
    folder.chmod(0o555)
    return str(folder), lambda: (folder.chmod(0o755), svc_url_file.chmod(0o644))


@pytest.fixture
def read_only_store(tmp_path, clock):
    """A store with one incident, on a folder that is then made read-only."""
    folder = tmp_path / "ro"
    folder.mkdir()
    mounted = False
    if os.geteuid() == 0:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            if os.environ.get("CI"):
                pytest.fail(f"cannot mount a tmpfs as root under CI: {done.stderr.strip()}")
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted = True
    path = folder / "eim.db"
    svc = open_services(f"sqlite:///{path}", clock)
    incident = svc.log_incident(NewIncident("Printer on floor 3 offline", 3, 3), "bob")
    svc.db.dispose()
    _, undo = _read_only_disk(tmp_path, path)
    try:
        yield path, incident
    finally:
        undo()
        if mounted:
            subprocess.run(["umount", str(folder)], check=False)


async def test_a_read_only_store_opens_says_so_and_refuses_writes(read_only_store, clock, app_factory) -> None:
    path, incident = read_only_store
    svc = open_services(f"sqlite:///{path}", clock)
    assert svc.db.read_only
    app = app_factory(svc, sla_scheduler=True)  # asked for, and left off: it could record nothing
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen)
                         and incident.number in app.screen.query_one(QueueTable).numbers, "the queue")
        await wait_until(pilot, lambda: "read-only store" in banner(app), "the read-only banner")
        assert app.sla_scheduler is None
        await pilot.press("a")  # acknowledge: a write
        await wait_until(pilot, lambda: any("store is read-only" in n.message for n in app._notifications),
                         "the refusal")
    assert svc.details(incident.number).incident.state.value == "new"
    svc.db.dispose()
