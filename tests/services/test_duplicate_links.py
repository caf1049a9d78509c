"""Duplicate-of links form trees: a link that would close a circle is refused — by `eim link`,
the detail screen's link form and bulk merge alike, since all go through `Services.change`."""

from __future__ import annotations

import pytest

from eim_tui.domain.errors import ValidationError
from eim_tui.services.bulk import BulkKind, BulkRequest, apply_one, plan

from .conftest import report


def _three(svc) -> tuple[int, int, int]:
    return tuple(svc.log_incident(report(title=f"VPN drops {n}"), "alice").number for n in range(3))


def test_a_link_that_closes_a_circle_is_refused_and_nothing_changes(svc) -> None:
    a, b, c = _three(svc)
    svc.link(a, "alice", parent=b)
    svc.link(b, "alice", parent=c)
    before = svc.get(c)
    with pytest.raises(ValidationError, match=r"^INC-000003 cannot be a duplicate of INC-000001: the links would go "
                                              r"round in a circle \(INC-000003 → INC-000001 → INC-000002 → INC-000003\)"):
        svc.link(c, "alice", parent=a)
    assert svc.get(c) == before


def test_two_incidents_cannot_be_each_others_duplicate(svc) -> None:
    a, b, _ = _three(svc)
    svc.link(a, "alice", parent=b)
    with pytest.raises(ValidationError, match="would go round in a circle"):
        svc.link(b, "alice", parent=a)


def test_links_that_form_a_tree_are_kept(svc) -> None:
    a, b, c = _three(svc)
    svc.link(a, "alice", parent=c)
    svc.link(b, "alice", parent=c)
    svc.link(b, "alice", parent=a)  # moving along the tree is fine
    assert (svc.get(a).parent_number, svc.get(b).parent_number) == (c, a)


def test_bulk_merge_refuses_the_incident_that_would_close_a_circle(svc) -> None:
    a, b, c = _three(svc)
    svc.link(c, "alice", parent=a)  # c is a's duplicate already
    request = BulkRequest(BulkKind.MERGE, parent=c)
    items = plan(request, svc.rows([a, b]), "alice", list(svc.ref.resolution_codes))
    outcomes = {item.number: apply_one(svc, request, item, "alice") for item in items}
    assert not outcomes[a].ok and "would go round in a circle" in outcomes[a].text
    assert outcomes[b].ok and svc.get(b).parent_number == c
    assert svc.get(a).parent_number is None


def test_eim_link_says_so_in_one_line(db_url, capsys) -> None:
    from eim_tui.cli.main import main

    for title in ("one", "two"):
        assert main(["--db", db_url, "--user", "alice", "new", "--title", title, "--impact", "2", "--urgency", "2"]) == 0
    assert main(["--db", db_url, "--user", "alice", "link", "INC-000001", "--parent", "INC-000002"]) == 0
    capsys.readouterr()
    assert main(["--db", db_url, "--user", "alice", "link", "INC-000002", "--parent", "INC-000001"]) == 2
    err = capsys.readouterr().err
    assert err == ("eim: INC-000002 cannot be a duplicate of INC-000001: the links would go round in a circle "
                   "(INC-000002 → INC-000001 → INC-000002); link it to an incident that is not its own duplicate\n")
