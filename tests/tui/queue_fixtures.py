"""A small, hand-made queue for the queue screen's Pilot tests, with what each view must show.

Eight incidents logged at chosen instants before NOW (2026-11-26 09:00 UTC), so each SLA
situation is there: a breached Sev1, a Sev2 about to breach (warning), paused, resolved, major.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eim_tui.domain.clock import FixedClock
from eim_tui.domain.intake import NewIncident

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

# Incident numbers, in the order they are logged.
PAYMENTS_502 = 1  # S1 new, unassigned, app-support; response due 5 min ago: BREACHED
DISK_FULL = 2  # S2 in progress, alice (dba)
VPN_DROPS = 3  # S3 new, network-ops (alice's group), nobody assigned yet
CHECKOUT_MAJOR = 4  # S1 major, in progress, nadia (app-support)
PRINTER = 5  # S5 new, end-user-computing
WIFI_RESOLVED = 6  # S4 resolved yesterday, lucia (network-ops)
DISK_LATENCY_HOLD = 7  # S3 on hold awaiting vendor, bob (platform, alice's group)
SSO_WARNING = 8  # S2 new, identity, response due in 5 min: warning

# What each view shows, in the default order (severity, then nearest to breach; paused last).
EXPECTED_VIEWS = {
    "open": [PAYMENTS_502, CHECKOUT_MAJOR, SSO_WARNING, DISK_FULL, VPN_DROPS, DISK_LATENCY_HOLD, PRINTER],
    "mine": [DISK_FULL],
    "my_groups": [VPN_DROPS, DISK_LATENCY_HOLD],
    "unassigned": [PAYMENTS_502, SSO_WARNING, VPN_DROPS, PRINTER],
    "breaching": [PAYMENTS_502, SSO_WARNING],
    "major": [CHECKOUT_MAJOR],
    "resolved": [WIFI_RESOLVED],
}


def _log(svc, clock: FixedClock, ago: timedelta, actor: str, **fields) -> int:
    clock.set(NOW - ago)
    return svc.log_incident(NewIncident(**fields), actor).number


def fill_queue(svc, clock: FixedClock) -> None:
    """Log the eight incidents (numbers 1…8) and leave the clock at NOW."""
    _log(svc, clock, timedelta(minutes=20), "monitor", title="Payments API returns 502 for card payments",
         impact=1, urgency=1, service="payments", assignment_group="app-support")
    _log(svc, clock, timedelta(hours=1), "bob", title="Disk full on db01: WAL volume at 100%",
         impact=1, urgency=2, service="data-warehouse", assignment_group="dba", assignee="alice")
    clock.set(NOW - timedelta(minutes=50))
    svc.acknowledge(DISK_FULL, "alice")
    _log(svc, clock, timedelta(hours=2), "grace", title="VPN drops for remote staff every 10 minutes",
         impact=2, urgency=2, service="vpn", assignment_group="network-ops")
    _log(svc, clock, timedelta(minutes=30), "monitor", title="Checkout page blank [prod]",
         impact=1, urgency=1, service="checkout-web", assignment_group="app-support", assignee="nadia")
    clock.set(NOW - timedelta(minutes=25))
    svc.acknowledge(CHECKOUT_MAJOR, "nadia")
    svc.set_major(CHECKOUT_MAJOR, "lead", True)
    _log(svc, clock, timedelta(minutes=10), "kofi", title="Printer jam on floor 2",
         impact=3, urgency=3, service="printing", assignment_group="end-user-computing")
    _log(svc, clock, timedelta(days=3), "lucia", title="Wi-Fi slow in warehouse 2",
         impact=2, urgency=3, service="wifi-campus", assignment_group="network-ops", assignee="lucia")
    clock.set(NOW - timedelta(days=2, hours=23))
    svc.acknowledge(WIFI_RESOLVED, "lucia")
    clock.set(NOW - timedelta(days=1))
    svc.resolve(WIFI_RESOLVED, "lucia", "config_change", "Moved the access point to channel 11")
    _log(svc, clock, timedelta(hours=3), "bob", title="Disk latency on the file server",
         impact=2, urgency=2, service="file-shares", assignment_group="platform", assignee="bob")
    clock.set(NOW - timedelta(hours=2, minutes=50))
    svc.acknowledge(DISK_LATENCY_HOLD, "bob")
    clock.set(NOW - timedelta(hours=2))
    svc.put_on_hold(DISK_LATENCY_HOLD, "bob", "awaiting_vendor", "case 4411 with the SAN vendor")
    _log(svc, clock, timedelta(minutes=25), "monitor", title="SSO login slow for everyone",
         impact=2, urgency=1, service="sso", assignment_group="identity")
    clock.set(NOW)
