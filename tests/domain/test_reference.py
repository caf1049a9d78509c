"""The shipped reference data loads, hangs together, and a broken file is reported clearly."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from eim_tui.domain.model import HypothesisStatus, NoteKind, Role
from eim_tui.domain.priority import DEFAULT_MATRIX, PriorityMatrix
from eim_tui.domain.sla import DEFAULT_POLICIES
from eim_tui.reference import ReferenceData, ReferenceError, load_reference
from eim_tui.reference.paths import DATA_DIR


@pytest.fixture(scope="module")
def ref() -> ReferenceData:
    return load_reference()


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped data, to break one file at a time."""
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


# --- the shipped data ----------------------------------------------------------------------------


def test_load_is_cached_per_directory(ref: ReferenceData, data_copy: Path) -> None:
    assert load_reference() is ref
    assert load_reference(DATA_DIR) is ref
    assert load_reference(data_copy) is not ref


def test_matrix_is_the_default(ref: ReferenceData) -> None:
    assert ref.matrix == PriorityMatrix(DEFAULT_MATRIX)
    assert ref.severity_names == {1: "critical", 2: "high", 3: "moderate", 4: "low", 5: "very low"}


def test_sla_defaults(ref: ReferenceData) -> None:
    expected = {
        1: (timedelta(minutes=15), timedelta(hours=4)),
        2: (timedelta(minutes=30), timedelta(hours=8)),
        3: (timedelta(hours=4), timedelta(days=3)),
        4: (timedelta(days=1), timedelta(days=10)),
        5: (timedelta(days=3), timedelta(days=20)),
    }
    assert {s: (p.response, p.resolution) for s, p in ref.policies.items()} == expected
    assert all(p.warning_fraction == 0.75 for p in ref.policies.values())
    assert ref.policies == DEFAULT_POLICIES
    assert ref.policy(2) is ref.policies[2]


def test_categories(ref: ReferenceData) -> None:
    names = {c.name for c in ref.categories}
    assert {"hardware", "software", "network", "security", "service_interruption", "database", "access"} <= names
    assert all(4 <= len(c.subcategories) <= 8 for c in ref.categories)
    assert ref.is_confidential("security")
    assert not ref.is_confidential("network")
    assert not ref.is_confidential("no-such-category")
    assert ref.category("network") is not None and ref.category("nope") is None


def test_groups_and_users_agree(ref: ReferenceData) -> None:
    users = {u.name: u for u in ref.users}
    assert users["alice"].role is Role.RESPONDER
    assert set(users["alice"].groups) == {"network-ops", "platform"}
    assert users["lead"].role is Role.SHIFT_LEAD
    for group in ref.groups:
        assert 2 <= len(group.members) <= 5, group.name
        assert group.shift_lead in group.members
        assert all(group.name in users[m].groups for m in group.members)
    assert ref.group("security-ops") is not None


def test_services_have_known_owners_and_items(ref: ReferenceData) -> None:
    assert len(ref.services) >= 15
    for service in ref.services:
        assert ref.group(service.owner_group) is not None
        assert 2 <= len(service.configuration_items) <= 5, service.name
    assert "db01.pay.internal" in ref.service("payments").configuration_items


def test_routing_rules_refer_to_known_names(ref: ReferenceData) -> None:
    assert 8 <= len(ref.routing_rules) <= 15
    for rule in ref.routing_rules:
        category = ref.category(rule.category)
        assert category is not None and rule.subcategory in category.subcategories
        assert ref.group(rule.group) is not None
    first = next(r for r in ref.routing_rules if r.matches("Phishing email reported by finance"))
    assert (first.category, first.group) == ("security", "security-ops")
    assert next(r for r in ref.routing_rules if r.matches("", service="vpn")).group == "network-ops"


def test_demo_templates_cover_the_reference(ref: ReferenceData) -> None:
    templates = ref.demo_templates
    assert len(templates) >= 40
    assert len({t.title for t in templates}) == len(templates)
    assert {t.category for t in templates} == {c.name for c in ref.categories}
    assert {ref.matrix.priority(t.impact, t.urgency) for t in templates} == {1, 2, 3, 4, 5}
    assert sum((t.impact, t.urgency) == (1, 1) for t in templates) >= 6
    assert sum(t.category == "security" for t in templates) >= 4
    assert sum("[" in t.title and "]" in t.title for t in templates) >= 3
    for t in templates:
        service = ref.service(t.service)
        assert service is not None and t.ci in service.configuration_items, t.title
        assert ref.group(t.group) is not None
        assert t.subcategory in ref.category(t.category).subcategories
        assert t.resolution is None or t.resolution.code in ref.resolution_codes


def test_demo_diagnosis_and_resolutions(ref: ReferenceData) -> None:
    templates = ref.demo_templates
    with_notes = [t for t in templates if t.diagnosis]
    assert len(templates) // 4 <= len(with_notes) <= len(templates) // 2
    assert len(templates) // 3 <= sum(t.resolution is not None for t in templates)
    notes = [n for t in with_notes for n in t.diagnosis]
    assert {n.kind for n in notes} == set(NoteKind)
    assert all((n.status is not None) == (n.kind is NoteKind.HYPOTHESIS) for n in notes)
    assert {n.status for n in notes if n.status} == set(HypothesisStatus)


# --- broken files --------------------------------------------------------------------------------


def test_malformed_toml_names_file_and_line(data_copy: Path) -> None:
    path = data_copy / "categories.toml"
    line = line_of(path, 'name = "network"')
    replace_in(path, 'name = "network"', 'name = "network')
    with pytest.raises(ReferenceError) as caught:
        load_reference(data_copy)
    assert str(caught.value).startswith(f"categories.toml: line {line}: ")


def test_bad_duration_names_the_entry(data_copy: Path) -> None:
    path = data_copy / "sla_policies.toml"
    replace_in(path, 'resolution = "8h"', 'resolution = "8 hours"')
    with pytest.raises(ReferenceError) as caught:
        load_reference(data_copy)
    message = str(caught.value)
    assert message.startswith(f"sla_policies.toml: line {line_of(path, '[severity.2]')}: [severity.2]")
    assert "resolution" in message and "8 hours" in message and "1h30m" in message


def test_unknown_severity(data_copy: Path) -> None:
    replace_in(data_copy / "sla_policies.toml", "[severity.5]", "[severity.6]")
    with pytest.raises(ReferenceError, match=r"sla_policies\.toml: line \d+: \[severity\.6\]: not a severity"):
        load_reference(data_copy)


def test_matrix_of_wrong_shape(data_copy: Path) -> None:
    replace_in(data_copy / "priority.toml", "[3, 4, 5],", "[3, 4],")
    with pytest.raises(ReferenceError, match=r"priority\.toml: line \d+: matrix: .*3 rows"):
        load_reference(data_copy)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('category = "database"', 'category = "databse"', "unknown category 'databse'"),
        ('service = "vpn"', 'service = "vnp"', "unknown service 'vnp'"),
        ('group = "dba"', 'group = "dbas"', "unknown group 'dbas'"),
        ('code = "fixed"', 'code = "sorted"', "unknown resolution code 'sorted'"),
        ("impact = 2", "impact = 4", "unknown impact (1 high … 3 low) 4"),
        ('status = "open"', 'status = "maybe"', "unknown hypothesis status 'maybe'"),
    ],
)
def test_demo_template_with_unknown_names(data_copy: Path, old: str, new: str, expected: str) -> None:
    path = data_copy / "demo_incidents.toml"
    replace_in(path, old, new)
    with pytest.raises(ReferenceError) as caught:
        load_reference(data_copy)
    message = str(caught.value)
    assert message.startswith("demo_incidents.toml: line ")
    assert "incident " in message and expected in message


def test_routing_rule_with_unknown_group(data_copy: Path) -> None:
    replace_in(data_copy / "routing.toml", 'group = "identity"', 'group = "idm"')
    with pytest.raises(ReferenceError, match=r"routing\.toml: line \d+: rule 4 \('account-access'\): unknown group"):
        load_reference(data_copy)


def test_service_with_unknown_owner_names_the_row(data_copy: Path) -> None:
    path = data_copy / "services.csv"
    replace_in(path, "vpn,Remote-access VPN for staff,network-ops", "vpn,Remote-access VPN for staff,netops")
    with pytest.raises(ReferenceError) as caught:
        load_reference(data_copy)
    assert str(caught.value).startswith(f"services.csv: line {line_of(path, 'vpn,')}: service 'vpn': unknown owner")


def test_user_and_group_membership_must_agree(data_copy: Path) -> None:
    replace_in(data_copy / "groups.toml", 'groups = ["network-ops", "platform"]', 'groups = ["network-ops"]')
    with pytest.raises(ReferenceError, match=r"groups\.toml: line \d+: user \d+ \('alice'\): groups .* disagree"):
        load_reference(data_copy)


def test_missing_file(data_copy: Path) -> None:
    (data_copy / "routing.toml").unlink()
    with pytest.raises(ReferenceError, match=r"^routing\.toml: cannot be read"):
        load_reference(data_copy)
