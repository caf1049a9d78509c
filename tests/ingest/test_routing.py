"""Alert routing rules: matching, severity, templates, and a rule file's mistakes named by line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from eim_tui.domain.alerts import Alert, AlertStatus, RefirePolicy
from eim_tui.domain.errors import ValidationError
from eim_tui.ingest import adapters
from eim_tui.ingest.routing import load_alert_routing, render
from eim_tui.reference import ReferenceError, load_reference

from .samples import am_alert, am_payload, generic_event, raw


@pytest.fixture(scope="module")
def ref():
    return load_reference()


@pytest.fixture(scope="module")
def shipped(ref):
    return load_alert_routing(ref)


def _am(**kw) -> Alert:
    return adapters.parse("alertmanager", am_payload(am_alert(**kw)))[0]


def test_the_shipped_rules_route_a_payments_database_alert(shipped) -> None:
    route = shipped.route(_am(name="DiskFull", instance="db02.pay.internal:9100", severity="critical"))
    assert route.rule == "payments-database"
    assert (route.service, route.category, route.subcategory, route.assignment_group) == (
        "payments", "database", "availability", "dba")
    assert route.title == "DiskFull on payments database db02.pay.internal"
    assert route.configuration_item == "db02.pay.internal"
    assert (route.impact, route.urgency) == (1, 1)
    assert (route.on_refire, route.auto_resolve) == (RefirePolicy.REOPEN, False)


def test_an_alert_no_rule_matches_gets_the_default_and_its_severity_decides(shipped) -> None:
    route = shipped.route(_am(name="HighLatency", instance="web07:9100", severity="warning"))
    assert route.rule == "default"
    assert (route.category, route.subcategory, route.assignment_group) == ("service_interruption", "degraded", "service-desk")
    assert route.title == "HighLatency on web07:9100"
    assert (route.impact, route.urgency) == (2, 2)
    assert shipped.route(_am(name="X", severity="info")).impact == 3
    assert (shipped.route(_am(name="X", severity="sev-unknown")).impact, shipped.route(_am(name="X", severity="")).urgency) == (2, 2)


def test_a_rule_may_set_impact_urgency_and_auto_resolve(shipped) -> None:
    labels = {"alertname": "Watchdog", "severity": "none"}
    route = shipped.route(Alert("alertmanager", "fp", AlertStatus.FIRING, "Watchdog", severity="none", labels=labels))
    assert (route.rule, route.impact, route.urgency, route.auto_resolve) == ("watchdog", 3, 3, True)
    assert route.title == "Watchdog"  # no instance: the next title template that fits


def test_the_real_alertmanager_payload_routes(shipped) -> None:
    (alert,) = adapters.parse("alertmanager", raw("alertmanager_firing.json"))
    route = shipped.route(alert)
    assert (route.rule, route.category, route.subcategory, route.assignment_group) == (
        "disk-space", "hardware", "storage", "platform")
    assert route.title == "DiskFull on db01:9100"
    assert route.configuration_item == "db01"


def test_a_generic_event_s_own_fields_win_and_unknown_names_are_refused(shipped) -> None:
    (alert,) = adapters.parse("generic", generic_event(service="checkout-web", severity="critical", impact=3,
                                                       assignment_group="dba"))
    route = shipped.route(alert)
    assert (route.title, route.service, route.impact, route.urgency, route.assignment_group) == (
        "Checkout latency above 2s", "checkout-web", 3, 1, "dba")
    shipped.check(route)
    (bad,) = adapters.parse("generic", generic_event(service="no-such-service"))
    with pytest.raises(ValidationError, match="unknown service 'no-such-service'"):
        shipped.check(shipped.route(bad))


def test_templates_use_the_first_whose_fields_all_exist() -> None:
    assert render(("{alertname} on {instance}", "{alertname}"), {"alertname": "A", "instance": "h:1"}) == "A on h:1"
    assert render(("{alertname} on {instance}", "{alertname}"), {"alertname": "A"}) == "A"
    assert render(("{nothing}",), {"alertname": "A"}) == ""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alert_routing.toml"
    path.write_text(textwrap.dedent(text).lstrip())
    return path


GOOD_TAIL = """
[severity]
other = { impact = 2, urgency = 2 }

[default]
category = "service_interruption"
subcategory = "degraded"
group = "service-desk"
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[rule]]\nname = "x"\nmatch = { a = "b" \n' + GOOD_TAIL, "alert_routing.toml: line 3: "),
        ('[[rule]]\nname = "x"\nmatch = { a = "b" }\ngroup = "nobody"\n' + GOOD_TAIL,
         "alert_routing.toml: line 1: rule 1 ('x'): unknown group 'nobody'"),
        ('[defaults]\non_refire = "sometimes"\n' + GOOD_TAIL, "line 1: [defaults]: unknown on_refire 'sometimes'"),
        ('# alerts\n\n[[rule]]\nname = "x"\nmatch_re = { a = "(" }\n' + GOOD_TAIL, "line 3: rule 1 ('x'): match_re.a: '(' is not a regular expression"),
        ('[[rule]]\nname = "x"\nmatch = { a = "b" }\ntitle = "{alertname"\n' + GOOD_TAIL, "`title` template '{alertname'"),
        ('[[rule]]\nname = "x"\nmatch = { a = "b" }\ntitle = "{labels[0]}"\n' + GOOD_TAIL, "{labels[0]} is not a field name"),
        ('[[rule]]\nname = "x"\ngroup = "dba"\n' + GOOD_TAIL, "give match or match_re"),
        ('[[rule]]\nname = "x"\nmatch = { a = "b" }\ncolour = "red"\n' + GOOD_TAIL, "unknown key 'colour'"),
        ('[[rule]]\nname = "x"\nmatch = { a = "b" }\nimpact = 4\n' + GOOD_TAIL, "unknown impact (1 high … 3 low) 4"),
        ('[[rule]]\nname = "x"\nmatch = { a = "b" }\nsubcategory = "vpn"\n' + GOOD_TAIL, "a subcategory needs its category"),
        ("[severity]\nother = { impact = 2, urgency = 2 }\n", "no [default] table"),
        ('[severity]\nhigh = { impact = 1, urgency = 1 }\n[default]\ncategory = "network"\nsubcategory = "vpn"\n'
         'group = "dba"\n', "[severity] needs `other"),
        ('[rules]\nx = 1\n' + GOOD_TAIL, "line 1: unknown table 'rules'"),
    ],
)
def test_a_rule_file_with_a_mistake_is_named_with_its_line(ref, tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ReferenceError) as caught:
        load_alert_routing(ref, _write(tmp_path, text))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_minimal_rule_file_is_enough(ref, tmp_path: Path) -> None:
    routing = load_alert_routing(ref, _write(tmp_path, GOOD_TAIL))
    alert = Alert("generic", "k", AlertStatus.FIRING, "Something broke")
    route = routing.route(alert)
    assert (route.rule, route.title, route.assignment_group, route.impact) == ("default", "Something broke", "service-desk", 2)
