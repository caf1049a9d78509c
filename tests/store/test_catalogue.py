"""The catalogue belongs to the store (issue 10), on SQLite and PostgreSQL: seeded once from data/,
then changed only by admins, each change recorded in a hash-chained history; reopening or
upgrading never puts back what an admin removed; retiring keeps history; SLA per service; a
catalogue file applies whole or not at all; migration 0005 steps down and up keeping every row.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from eim_tui.bootstrap import open_services
from eim_tui.domain.errors import PermissionDenied, ValidationError
from eim_tui.domain.intake import NewIncident
from eim_tui.store.engine import Database
from eim_tui.store.schema import current_revision, downgrade, upgrade
from tests.store.test_upgrade import restore, row_counts

FIXTURES = Path(__file__).parent / "fixtures"


def _without(group: str, member: str):
    return lambda before: {**before, "members": [m for m in before["members"] if m != member]}


def test_a_new_store_is_seeded_once_and_the_history_verifies(svc) -> None:
    cat = svc.catalogue
    assert cat.service("payments") is not None and not cat.service("payments")["retired"]
    assert "pay-api-01.pay.internal" in [c["name"] for c in cat.cis(service="payments")]
    assert [r.name for r in svc.ref.routing_rules][:2] == ["phishing", "malware"]  # from data/routing.toml
    intact, events, problem = cat.verify()
    assert intact, problem
    assert events == cat.marker() > 0


def test_an_admins_removal_is_never_put_back_by_upgrade_or_reopening(svc, db_url, clock) -> None:
    member = svc.catalogue.group("dba")["members"][0]
    svc.catalogue.edit("admin", "group", "dba", _without("dba", member))
    plan = svc.catalogue.retire("admin", "service", "email")
    assert ("retired", "mx-01.mail.internal") in [(c.kind, c.name) for c in plan.changes]  # its CIs too
    svc.upgrade_store()  # `eim db upgrade`
    again = open_services(db_url, clock)
    try:
        for s in (svc, again):
            assert member not in s.catalogue.group("dba")["members"]
            assert s.ref.service("email") is None  # retired: not offered
            assert s.catalogue.service("email")["retired"]  # … but kept
            assert member not in s.ref.group("dba").members
    finally:
        again.close_store()


def test_only_admins_change_the_catalogue(svc) -> None:
    with pytest.raises(PermissionDenied, match="changing the catalogue is for admins; alice is a responder"):
        svc.catalogue.edit("alice", "service", "payroll",
                           lambda before: {"name": "payroll", "description": "", "owner_group": "", "retired": False})
    assert svc.catalogue.service("payroll") is None


def test_retiring_keeps_old_incidents_and_refuses_new_ones(svc) -> None:
    cat = svc.catalogue
    cat.edit("admin", "service", "payroll", lambda b: {"name": "payroll", "description": "Payroll",
                                                       "owner_group": "app-support", "retired": False})
    old = svc.log_incident(NewIncident(title="Payroll export stalled", impact=2, urgency=1, service="payroll"), "alice")
    cat.retire("admin", "service", "payroll")
    assert svc.get(old.number).service == "payroll"
    with pytest.raises(ValidationError, match="service 'payroll' is retired"):
        svc.log_incident(NewIncident(title="again", impact=2, urgency=1, service="payroll"), "alice")
    with pytest.raises(ValidationError, match=r"unknown service 'hr-portl'; did you mean 'hr-portal'.*\? add one with eim services add"):
        svc.log_incident(NewIncident(title="again", impact=2, urgency=1, service="hr-portl"), "alice")
    assert [i[0] for i in cat.open_incidents(service="payroll")] == [old.number]
    assert [h["kind"] for h in cat.history("service", "payroll")] == ["added", "retired"]


def test_a_service_sla_changes_the_clocks_of_its_incidents(svc) -> None:
    cat = svc.catalogue
    cat.edit("admin", "sla", "payments Sev2", lambda b: {"severity": 2, "service": "payments", "response": 900,
                                                         "resolution": 7200})
    assert svc.ref.policy(2, "payments").response == timedelta(minutes=15)
    assert svc.ref.policy(2, "email").response == svc.ref.policy(2).response == timedelta(minutes=30)
    paid = svc.log_incident(NewIncident(title="card auth failing", impact=2, urgency=1, service="payments"), "alice")
    other = svc.log_incident(NewIncident(title="mail slow", impact=2, urgency=1, service="email"), "alice")
    assert paid.priority == other.priority == 2
    assert paid.response_due_at - paid.reported_at == timedelta(minutes=15)
    assert other.response_due_at - other.reported_at == timedelta(minutes=30)
    reading = svc.details(paid.number).response  # what the detail screen and the wall show
    assert (reading.due_at, reading.target) == (paid.response_due_at, timedelta(minutes=15))
    from eim_tui.services.sla import SlaService

    warnings = [m for m in SlaService(svc).moments_of(paid) if m.clock == "response" and m.kind.value == "warning"]
    assert [m.at - paid.reported_at for m in warnings] == [timedelta(minutes=15) * 0.75]  # the scheduler's moment


def test_apply_is_idempotent_all_or_nothing_and_names_the_line(svc) -> None:
    cat = svc.catalogue
    exported = cat.export()
    assert not cat.apply_file("admin", exported).changes  # export → apply: nothing to do
    grown = exported + '\n[[service]]\nname = "payroll"\nowner_group = "app-support"\n\n' \
                       '[[ci]]\nname = "payroll-db-01"\nservice = "payroll"\nkind = "database"\n'
    plan = cat.apply_file("admin", grown)
    assert plan.counts()["added"] == 2
    assert not cat.apply_file("admin", grown).changes
    marker = cat.marker()
    bad = grown.replace('name = "payroll"\n', 'name = "payroll"\ndescription = "changed"\n') \
        + '\n[[ci]]\nname = "x-01"\nservice = "nowhere"\n'
    line = bad.splitlines().index('name = "x-01"')  # the [[ci]] header is the line before: 1-based index
    with pytest.raises(ValidationError, match=rf"^catalog.toml:{line}: ci x-01: unknown service 'nowhere'"):
        cat.apply_file("admin", bad)
    assert cat.service("payroll")["description"] == "" and cat.marker() == marker  # nothing applied
    dropped = grown.replace('[[ci]]\nname = "payroll-db-01"\nservice = "payroll"\nkind = "database"\n', "")
    plan = cat.apply_file("admin", dropped)
    assert [(c.kind, c.name) for c in plan.changes] == [("retired", "payroll-db-01")]


@pytest.mark.parametrize("mistake, message", [
    ('[[service]]\nname = "payments"\n', "service 'payments' is listed twice"),
    ('[[sla]]\nseverity = 2\nresponse = "0m"\nresolution = "4h"\n', "response is zero"),
    ('[[sla]]\nseverity = 7\nresponse = "1m"\nresolution = "4h"\n', "severity must be a number from 1 to 5"),
    ('[[ci]]\nname = "a"\nservice = "payments"\ncolour = "red"\n', "unknown field 'colour'"),
    ('[[routing]]\nname = "r"\ncategory = "network"\nsubcategory = "vpn"\ngroup = "network-ops"\n',
     "give keywords or services"),
])
def test_a_bad_catalogue_file_is_refused_with_its_line(svc, mistake: str, message: str) -> None:
    exported = svc.catalogue.export()
    bad = exported + "\n" + mistake
    first = len(exported.splitlines()) + 2  # the header of the appended table
    with pytest.raises(ValidationError) as caught:
        svc.catalogue.apply_file("admin", bad)
    where, _, what = str(caught.value).partition(": ")
    assert message in what
    assert first <= int(where.split(":")[1]) <= first + 3


def test_import_updates_in_place_and_refuses_a_bad_row_whole(svc) -> None:
    cat = svc.catalogue
    rows = [(2, {"name": "db-77", "service": "payments", "kind": "database", "owner_group": "dba",
                 "attributes": {"os": "debian"}, "retired": False})]
    assert cat.import_cis("admin", rows, "cmdb.csv").counts()["added"] == 1
    rows[0][1]["kind"] = "cluster"
    assert cat.import_cis("admin", rows, "cmdb.csv").counts()["changed"] == 1
    assert cat.ci("db-77")["kind"] == "cluster"
    bad = rows + [(3, {**rows[0][1], "name": "db-78", "owner_group": "nobody"})]
    with pytest.raises(ValidationError, match=r"^cmdb.csv:3: ci db-78: unknown owner group 'nobody'"):
        cat.import_cis("admin", bad, "cmdb.csv")
    assert cat.ci("db-78") is None


def test_migration_0005_steps_down_and_up_keeping_every_row(backend, tmp_path, request) -> None:
    url = restore(backend, tmp_path, request)
    db = Database(url)
    try:
        upgrade(db, "0005")
        with db.write_engine.begin() as conn:
            conn.execute(text("UPDATE configuration_item SET kind = 'server' WHERE name = "
                              "(SELECT min(name) FROM configuration_item)"))
        counts = row_counts(url)
        downgrade(db, "0004")
        assert current_revision(db) == "0004"
        upgrade(db, "0005")
        assert {t: n for t, n in row_counts(url).items() if t in counts} == counts
    finally:
        db.dispose()


def test_an_upgraded_store_keeps_its_reference_rows_and_gains_the_routing_rules(backend, tmp_path, request,
                                                                                  clock) -> None:
    url = restore(backend, tmp_path, request)
    before = row_counts(url)
    svc = open_services(url, clock)
    try:
        after = row_counts(url)
        for table in ("service", "configuration_item", "assignment_group", "group_member", "category",
                      "subcategory", "sla_policy"):
            assert after[table] == before[table], table
        assert after["routing_rule"] > 0 and after["escalation_rule"] == 5
        assert after["catalogue_event"] == after["routing_rule"] + after["escalation_rule"] + 1  # + "seeded"
        assert svc.catalogue.verify()[0]
    finally:
        svc.close_store()


def test_a_store_seeded_before_escalation_rules_moved_in_keeps_escalating(backend, tmp_path, request, clock) -> None:
    """Migration 0009 on a store whose catalogue was seeded already (no second seed comes): the
    rules that data/escalation.toml shipped are put in, so its Sev1s still escalate; every other
    row is kept; and stepping down and up again keeps every row."""
    from eim_tui.reference import load_reference

    url = restore(backend, tmp_path, request)
    open_services(url, clock).close_store()  # upgraded to the head and seeded, as a store in use is
    db = Database(url)
    try:
        downgrade(db, "0008")  # as the store stood before this revision
        assert "escalation_rule" not in row_counts(url)
        counts = row_counts(url)
        upgrade(db, "0009")
        after = row_counts(url)
        assert {t: n for t, n in after.items() if t in counts} == counts
        assert after["escalation_rule"] == 5
    finally:
        db.dispose()
    svc = open_services(url, clock)
    try:
        shipped = load_reference().escalation_rules
        assert svc.ref.escalation_rules == shipped  # the same rules, field for field
        assert [r["name"] for r in svc.catalogue.escalation()] == [r.name for r in shipped]
    finally:
        svc.close_store()


def test_escalation_rules_are_changed_by_catalog_apply_and_the_scheduler_follows(svc, clock) -> None:
    """The store is the truth: a rule shortened and given a person to reach by `eim catalog apply`
    is what the SLA scheduler plans with next, without a restart; a name nobody knows is refused
    with the file's line, and nothing is applied."""
    from eim_tui.reference.catalogue_file import write_catalogue_file
    from eim_tui.services.sla import SlaService

    sla = SlaService(svc)
    assert sla._rules_by_name["sev1-not-acknowledged"].after == timedelta(minutes=5)
    text_ = write_catalogue_file(svc.catalogue.snapshot())
    changed = text_.replace('after = "5m"\nnotify = ["shift_lead"]\nreach = []',
                            'after = "2m"\nnotify = ["shift_lead"]\nreach = ["nobody-here"]')
    assert changed != text_
    line = changed.splitlines().index('reach = ["nobody-here"]') + 1
    with pytest.raises(ValidationError, match=rf"^catalog.toml:{line - 6}: escalation sev1-not-acknowledged: "
                                              r"reaches unknown person 'nobody-here'"):
        svc.catalogue.apply_file("admin", changed)
    assert sla._rules_by_name["sev1-not-acknowledged"].after == timedelta(minutes=5)
    plan = svc.catalogue.apply_file("admin", changed.replace("nobody-here", "bob"))
    assert plan.counts()["changed"] == 1
    rule = sla._rules_by_name["sev1-not-acknowledged"]
    assert (rule.after, rule.reach) == (timedelta(minutes=2), ("bob",))
    incident = svc.log_incident(NewIncident(title="Core switch down", impact=1, urgency=1,
                                            assignment_group="platform"), "monitor")
    due = [m for m in sla.moments_of(incident) if m.rule == "sev1-not-acknowledged"]
    assert [m.at - incident.reported_at for m in due] == [timedelta(minutes=2)]
    assert svc.catalogue.apply_file("admin", changed.replace("nobody-here", "bob")).changes == ()


def test_an_altered_catalogue_event_breaks_the_chain(svc) -> None:
    svc.catalogue.edit("admin", "service", "payroll", lambda b: {"name": "payroll", "description": "",
                                                                 "owner_group": "", "retired": False})
    seq = svc.catalogue.history("service", "payroll")[0]["seq"]
    with svc.db.write_engine.begin() as conn:
        conn.execute(text("UPDATE catalogue_event SET actor = 'mallory' WHERE seq = :seq"), {"seq": seq})
    intact, _events, problem = svc.catalogue.verify()
    assert not intact and problem == f"catalogue event {seq} (service payroll, added) was altered after it was written"


def test_another_process_sees_a_catalogue_change_without_waiting_on_the_store(svc, db_url, clock) -> None:
    import time

    other = open_services(db_url, clock)
    try:
        assert other.ref.service("payroll") is None
        svc.catalogue.edit("admin", "service", "payroll", lambda b: {"name": "payroll", "description": "",
                                                                     "owner_group": "", "retired": False})
        deadline = time.monotonic() + 10
        while other.ref.service("payroll") is None and time.monotonic() < deadline:
            time.sleep(0.05)  # `ref` answers from its cache at once; a background read brings the change
        assert other.ref.service("payroll") is not None
    finally:
        other.close_store()
