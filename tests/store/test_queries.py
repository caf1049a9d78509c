"""The queue's views, ordering and filter language, on a small hand-made set of incidents.

At 09:00 (the fixed clock) the set holds:

  #   sev  state        group / assignee       service        clock
  1   1    new          — / —                  payments       response due 08:45: breached
  2   1    new          platform / alice       checkout-web   response due 09:10
  3   2    in_progress  dba / bob              data-warehouse resolution due 15:00
  4   2    on_hold      platform / alice       vpn            paused (vendor), due 14:00 + pause
  5   3    new          network-ops / —        vpn            response due 12:00; "50% packet_loss"
  6   3    resolved     — / carol              email          resolved yesterday
  7   4    closed       — / carol              printing
  8   2    in_progress  app-support / Bob      payments       major; resolution due 16:40
  9   5    cancelled
  10  3    new          network-ops / —        core-network   response due 07:00: breached
  11  2    on_hold      — / dave               hr-portal      put on hold (user) after its due: breached
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from eim_tui.domain import HoldReason
from eim_tui.domain.filters import FilterError, parse
from eim_tui.domain.queue import View

from .conftest import report


@pytest.fixture
def queue_set(svc, clock, fixed_now):
    t0 = fixed_now

    def at(delta: timedelta) -> None:
        clock.set(t0 + delta)

    def log(delta: timedelta, title: str, impact: int, urgency: int, **fields):
        at(delta)
        return svc.log_incident(report(title=title, impact=impact, urgency=urgency, **fields), "servicedesk").number

    n1 = log(-timedelta(minutes=30), "Payments API down", 1, 1, service="payments")
    n2 = log(-timedelta(minutes=5), "Checkout errors", 1, 1, service="checkout-web", assignment_group="platform",
             assignee="alice")
    n3 = log(-timedelta(hours=2), "Replication lag on the warehouse", 1, 2, service="data-warehouse",
             assignment_group="dba")
    at(-timedelta(hours=1, minutes=50))
    svc.acknowledge(n3, "bob")
    n4 = log(-timedelta(hours=3), "Staff VPN drops every hour", 1, 2, service="vpn", assignment_group="platform",
             assignee="alice")
    at(-timedelta(hours=2, minutes=50))
    svc.acknowledge(n4, "alice")
    at(-timedelta(hours=2, minutes=40))
    svc.put_on_hold(n4, "alice", HoldReason.AWAITING_VENDOR)
    n5 = log(-timedelta(hours=1), "50% packet_loss on vpn-gw-01", 2, 2, service="vpn", category="network",
             assignment_group="network-ops")
    n6 = log(-timedelta(days=2), "Mail delayed by an hour", 2, 2, service="email")
    svc.acknowledge(n6, "carol")
    at(-timedelta(days=1))
    svc.resolve(n6, "carol", "fixed", "cleared the queue")
    n7 = log(-timedelta(days=10), "Old printer jams", 2, 3, service="printing")
    svc.acknowledge(n7, "carol")
    svc.resolve(n7, "carol", "hardware_replaced", "new printer")
    at(-timedelta(days=9))
    svc.close(n7, "carol")
    n8 = log(-timedelta(minutes=20), "Card payments failing", 1, 2, service="payments", assignment_group="app-support")
    svc.set_major(n8, "lead", True)
    svc.acknowledge(n8, "Bob")
    n9 = log(-timedelta(hours=1), "Wallpaper request", 3, 3)
    svc.cancel(n9, "lead", "not an incident")  # cancelling needs a shift lead
    n10 = log(-timedelta(hours=6), "500 packets lost on packetXloss link", 2, 2, service="core-network",
              assignment_group="network-ops")
    n11 = log(-timedelta(hours=10), "HR portal slow", 1, 2, service="hr-portal")
    at(-timedelta(hours=9, minutes=55))
    svc.acknowledge(n11, "dave")
    at(-timedelta(hours=1))
    svc.put_on_hold(n11, "dave", HoldReason.AWAITING_USER)
    at(timedelta(0))
    assert [n1, n2, n3, n4, n5, n6, n7, n8, n9, n10, n11] == list(range(1, 12))
    return svc


def _queue(svc, view: View = View.OPEN, text: str = "", user: str = "alice", groups=("platform",)) -> list[int]:
    return svc.queue(view, parse(text), user, list(groups))


def test_the_open_view_orders_by_severity_then_breach_then_due_with_paused_last(queue_set) -> None:
    assert _queue(queue_set) == [1, 2, 3, 8, 4, 11, 10, 5]


VIEWS = [
    (View.MINE, "alice", (), [2, 4]),
    (View.MINE, "bob", (), [3]),  # the view is exact; `assignee:bob` is the forgiving filter
    (View.MY_GROUPS, "alice", ("platform",), [2, 4]),
    (View.MY_GROUPS, "bob", ("dba", "network-ops"), [3, 10, 5]),
    (View.MY_GROUPS, "nobody", (), []),
    (View.UNASSIGNED, "alice", (), [1, 10, 5]),
    (View.BREACHING, "alice", (), [1, 2, 10]),
    (View.MAJOR, "alice", (), [8]),
    (View.RESOLVED, "alice", (), [6]),
]


def test_views(queue_set) -> None:
    # One store for the whole table (building it is the slow part); every mismatch is reported.
    wrong = {
        (view.value, user, groups): (got, expected)
        for view, user, groups, expected in VIEWS
        if (got := _queue(queue_set, view, user=user, groups=groups)) != expected
    }
    assert wrong == {}


def test_the_resolved_view_shows_only_the_last_week_newest_first(queue_set, clock, fixed_now) -> None:
    svc = queue_set
    svc.resolve(3, "bob", "fixed", "resynced the replica")
    assert _queue(svc, View.RESOLVED) == [3, 6]
    clock.set(fixed_now + timedelta(days=6, hours=12))
    assert _queue(svc, View.RESOLVED) == [3]


FILTERS = [
    ("sev<=2", [1, 2, 3, 8, 4, 11]),
    ("sev>=3", [10, 5]),
    ("sev=2", [3, 8, 4, 11]),
    ("state:on_hold", [4, 11]),
    ("state:resolved,closed", [6, 7]),
    ("state:cancelled", [9]),
    ("all sev>=4", [7, 9]),
    ("service:payments", [1, 8]),
    ("service:PAYMENTS", [1, 8]),
    ("service:pay", []),  # a field term is the whole name, not a part
    ("group:platform", [2, 4]),
    ("group:network-ops,dba", [3, 10, 5]),
    ("assignee:me", [2, 4]),
    ("assignee:none", [1, 10, 5]),
    ("assignee:bob", [3, 8]),
    ("assignee:b%", []),
    ("assignee:b_b", []),
    ("breached", [1, 11, 10]),
    ("category:network", [5]),
    ("category:Network", [5]),
    ("major", [8]),
    ("payments", [1, 8]),
    ("PAYMENTS api", [1]),
    ("INC-000003", [3]),
    ("inc-3", []),  # not a part of INC-000003
    ("3", [3]),
    ("000011", [11]),
    ("inc-00001", [11, 10]),  # part of a key: INC-000010 and INC-000011
    ("50%", [5]),  # % is a character, not a wildcard ("500 packets" does not match)
    ("packet_loss", [5]),  # _ too ("packetXloss" does not match)
    ('"vpn-gw-01 vpn"', [5]),  # a phrase over title and service, as `matches` reads them
    ("sev<=2 service:payments breached", [1]),
    ("nothing-like-this", []),
]


def test_filter_terms(queue_set) -> None:
    wrong = {text: (got, expected) for text, expected in FILTERS if (got := _queue(queue_set, text=text)) != expected}
    assert wrong == {}


def test_filters_narrow_a_view(queue_set) -> None:
    assert _queue(queue_set, View.UNASSIGNED, "sev<=1") == [1]
    assert _queue(queue_set, View.MY_GROUPS, "breached", groups=("network-ops",)) == [10]
    assert _queue(queue_set, View.BREACHING, "service:checkout-web") == [2]


def test_a_bad_filter_is_refused_before_the_store() -> None:
    with pytest.raises(FilterError, match="severity must be a number 1–5"):
        parse("sev<=9")


def test_queue_rows_carry_what_the_queue_draws(queue_set, fixed_now) -> None:
    rows = {r.number: r for r in queue_set.rows([1, 4, 8, 11, 6])}
    assert set(rows) == {1, 4, 6, 8, 11}
    one = rows[1]
    assert (one.key, one.priority, one.clock, one.due_at) == ("INC-000001", 1, "response", fixed_now - timedelta(minutes=15))
    assert one.sla_state(fixed_now).value == "breached" and one.seconds_left(fixed_now) == -900
    assert rows[4].sla_state(fixed_now).value == "paused"
    assert rows[11].sla_state(fixed_now).value == "breached"  # paused after its due instant
    assert rows[8].major and rows[8].assignee == "Bob"
    assert rows[6].clock == "" and rows[6].due_at is None and rows[6].sla_state(fixed_now) is None
    assert isinstance(one.reported_at, datetime) and one.reported_at.tzinfo is not None
