"""The links monitoring gave an incident's alerts (Grafana: dashboard, panel, silence form, image;
any sender: runbook), newest alert first, so the incident keeps them for the people working it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from eim_tui.store.tables import AlertRow

# annotation → the name the incident shows it under
LINK_ANNOTATIONS = {"dashboard_url": "dashboard", "panel_url": "panel", "silence_url": "silence",
                    "image_url": "image", "runbook_url": "runbook"}


def incident_links(session: Session, number: int, limit: int = 50) -> dict[str, str]:
    """Each kind of link once: the one of the alert seen last that has it."""
    rows = session.execute(
        select(AlertRow.annotations).where(AlertRow.incident_id == number)
        .order_by(AlertRow.last_seen.desc(), AlertRow.id.desc()).limit(limit)
    ).scalars()
    found: dict[str, str] = {}
    for given in rows:
        for key, name in LINK_ANNOTATIONS.items():
            value = (given or {}).get(key)
            if isinstance(value, str) and value.strip() and name not in found:
                found[name] = value.strip()
    return {name: found[name] for name in LINK_ANNOTATIONS.values() if name in found}
