"""A NUL byte in any text is refused with one clear message and writes nothing, on SQLite and on
PostgreSQL (where it used to end in the driver's DataError and exit status 1)."""

from __future__ import annotations

import pytest

from eim_tui.domain.errors import ValidationError
from eim_tui.store.engine import NUL_REFUSED

from .conftest import report

NUL = "disk\x00full"


def _events(svc) -> int:
    return svc.verify_chain().events


@pytest.mark.parametrize("field", ["title", "description", "reporter_name", "reporter_department"])
def test_a_new_incident_with_a_nul_is_refused(svc, field) -> None:
    before = _events(svc)
    fields = {"title": "Disk full on db01", field: NUL}
    with pytest.raises(ValidationError, match=r"NUL character"):
        svc.log_incident(report(**fields), "alice")
    assert _events(svc) == before


def test_notes_reasons_and_links_with_a_nul_are_refused(svc) -> None:
    number = svc.log_incident(report(title="Disk full on db01"), "alice").number
    svc.acknowledge(number, "alice")
    before = _events(svc)
    attempts = [
        lambda: svc.add_note(number, "alice", "observation", NUL),
        lambda: svc.put_on_hold(number, "alice", "vendor", NUL),
        lambda: svc.cancel(number, "system", NUL),  # eim's own actor: never refused for its role
        lambda: svc.link(number, "alice", problem_ref=NUL),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError) as refused:
            attempt()
        assert str(refused.value) == NUL_REFUSED
    assert _events(svc) == before
    assert svc.verify_chain().intact


def test_the_command_line_says_so_in_one_line(db_url, capsys) -> None:
    from eim_tui.cli.main import main

    status = main(["--db", db_url, "--user", "alice", "new", "--title", NUL, "--impact", "2", "--urgency", "2"])
    assert status == 2
    assert capsys.readouterr().err == f"eim: {NUL_REFUSED}\n"
