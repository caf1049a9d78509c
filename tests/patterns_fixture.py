"""A store with a planted recurring cluster, for the pattern tests of the services, the panel and
its snapshot: twelve "Tunnel …" incidents on the vpn service (nine say "tunnel drops"), logged one
a day over the twelve days before the clock's now, among unrelated incidents of the same service
and category, and the same titles spread over another service's subcategories (never five alike);
and `imported_log`, a small event log shaped like the ServiceNow import."""

from __future__ import annotations

from datetime import timedelta

from eim_tui.domain.intake import NewIncident

DROPS = ["Tunnel drops for Berlin office", "tunnel drops again at night", "Tunnel drops every 5 minutes",
         "Tunnel drops during backup window", "tunnel drops for sales team", "Tunnel drops after rekey",
         "Tunnel drops on London link", "Tunnel drops under load", "Tunnel drops twice an hour"]
OTHER_TUNNEL = ["Tunnel flapping to Paris", "Tunnel renegotiates constantly", "Tunnel latency high"]
UNRELATED = ["Printer jams on floor 3", "Password reset email missing", "Laptop battery swollen",
             "Teams calls echo", "Badge reader offline", "Monitor flickers"]
REASON = '12 incidents · vpn · network/vpn · "tunnel drops" in 9 titles · last 30 days'


def plant(svc, clock, actor: str = "alice") -> list[int]:
    """Log the cluster and the noise; the clock ends where it started. Returns the cluster's numbers."""
    now = clock.now()

    def log(title: str, **fields) -> int:
        return svc.log_incident(NewIncident(title=title, impact=2, urgency=2, **fields), actor).number

    numbers = []
    for i, title in enumerate(DROPS + OTHER_TUNNEL):
        clock.set(now - timedelta(days=12 - i, hours=1))
        numbers.append(log(title, service="vpn", category="network", subcategory="vpn"))
        log(UNRELATED[i % len(UNRELATED)] + f" #{i}", service="vpn", category="network", subcategory="vpn")
        log(title, service="payments", category="software",
            subcategory=["application-error", "performance", "deployment"][i % 3])
    clock.set(now)
    return numbers


def imported_log(path):
    """A small event log shaped like the ServiceNow one (tests/importing): no titles, no service,
    rarely a CI, dates in 2016. Seven incidents share Location 143 and Category 26 / Subcategory 174
    / Symptom 491; the rest differ in the symptom or the location."""
    from tests.importing.conftest import event, write_log

    kind = {"category": "Category 26", "subcategory": "Subcategory 174", "u_symptom": "Symptom 491"}
    rows = [event(f"INC00001{i:02d}", "New", 0, f"{i}/3/2016 09:05", opened_at=f"{i}/3/2016 09:00",
                  location="Location 143", **kind) for i in range(1, 8)]
    rows += [event(f"INC00002{i:02d}", "New", 0, f"{i}/3/2016 10:05", opened_at=f"{i}/3/2016 10:00",
                   location="Location 143", **{**kind, "u_symptom": f"Symptom {i}"}) for i in range(1, 5)]
    rows += [event(f"INC00003{i:02d}", "New", 0, f"{i}/3/2016 11:05", opened_at=f"{i}/3/2016 11:00",
                   location=f"Location {i}", **kind) for i in range(1, 7)]
    return write_log(path, rows)
