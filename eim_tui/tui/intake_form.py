"""What the new-incident form computes, without Textual: the options it offers, the live priority
line, the routing proposal, and the typed values checked and turned into a `NewIncident`.

Field names are the form's (`title`, `impact`, `ci`, …); errors come back by field name so the
form can show each one under its field.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from eim_tui.domain.errors import DomainError
from eim_tui.domain.intake import MAX_TITLE, NewIncident, parse_when
from eim_tui.domain.model import Source
from eim_tui.reference.data import ReferenceData, RoutingRule

LEVELS = [("1 — high", 1), ("2 — medium", 2), ("3 — low", 3)]
IMPACTS = [("1 — high: many users or a whole service", 1), ("2 — medium: a department, or degraded", 2),
           ("3 — low: one user or a minor function", 3)]
URGENCIES = [("1 — high: hurts now, no workaround", 1), ("2 — medium: soon, or a workaround exists", 2),
             ("3 — low: can wait", 3)]
SOURCES = [(s.label, s.value) for s in Source]


def severity_options(ref: ReferenceData) -> list[tuple[str, int]]:
    return [(f"Sev{n} — {ref.severity_names[n]}", n) for n in sorted(ref.severity_names)]


def category_options(ref: ReferenceData) -> list[tuple[str, str]]:
    return [(c.name.replace("_", " "), c.name) for c in ref.categories]


def subcategory_options(ref: ReferenceData, category: str | None) -> list[tuple[str, str]]:
    found = ref.category(category or "")
    return [(s, s) for s in found.subcategories] if found else []


def group_options(ref: ReferenceData) -> list[tuple[str, str]]:
    return [(g.name, g.name) for g in ref.groups]


def service_names(ref: ReferenceData) -> list[str]:
    return [s.name for s in ref.services]


def item_names(ref: ReferenceData, service: str) -> list[str]:
    """The configuration items of `service`, or of every service when it is not one we know."""
    known = ref.service(service.strip())
    if known is not None:
        return list(known.configuration_items)
    return list(ref.item_names)  # every active CI, sorted once per catalogue (reference/data.py)


def service_of_item(ref: ReferenceData, ci: str) -> str | None:
    return ref.item_services.get(ci.strip())


def _compact(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds // 60}m"


def priority_preview(ref: ReferenceData, impact: Any, urgency: Any) -> str:
    """`→ Sev2 (high) · response 30m · resolution 8h`, or what is still missing."""
    if impact is None or urgency is None:
        return "→ choose impact and urgency to see the priority"
    severity = ref.matrix.priority(int(impact), int(urgency))
    policy = ref.policy(severity)
    return (f"→ Sev{severity} ({ref.severity_names[severity]}) · response {_compact(policy.response)}"
            f" · resolution {_compact(policy.resolution)}")


def propose(ref: ReferenceData, title: str, description: str = "", service: str = "") -> RoutingRule | None:
    """The first routing rule matching the words typed or the service, in file order."""
    text = f"{title}\n{description}"
    if not text.strip() and not service.strip():
        return None
    return next((r for r in ref.routing_rules if r.matches(text, service.strip())), None)


def describe_proposal(rule: RoutingRule | None, accepted: bool, key: str) -> str:
    if rule is None:
        return "No proposal yet: routing rules look at the title, description and service."
    where = f"{rule.category.replace('_', ' ')} › {rule.subcategory} → {rule.group}"
    head = f"✓ Using {where}" if accepted else f"Proposed: {where}"
    tail = "" if accepted else f" · {key} accepts"
    return f"{head}\nproposed because: {rule.reason or rule.name}{tail}"


def check(
    values: dict[str, Any], ref: ReferenceData, now: datetime, local_tz: tzinfo | None = None
) -> tuple[NewIncident | None, dict[str, str]]:
    """The report the values describe, or the errors by field name (each says how to fix it)."""
    errors: dict[str, str] = {}
    text = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items()}
    title = " ".join((text.get("title") or "").split())
    if not title:
        errors["title"] = "A title is required: say in a line what is wrong"
    elif len(title) > MAX_TITLE:
        errors["title"] = f"The title is {len(title)} characters; keep it under {MAX_TITLE}"
    for name in ("impact", "urgency"):
        if text.get(name) is None:
            errors[name] = f"Choose the {name}: 1 high, 2 medium or 3 low"
    detected = None
    if text.get("detected"):
        try:
            detected = parse_when(text["detected"], now, local_tz)
        except DomainError as exc:
            errors["detected"] = str(exc)
        else:
            if detected > now + timedelta(minutes=5):
                errors["detected"] = "That is in the future; give when it was first seen"
    service, ci = text.get("service") or "", text.get("ci") or ""
    if service and ref.service(service) is None:
        errors["service"] = f"Unknown service {service!r}; → takes a completion from the services list"
    if ci and service and ref.service(service) is not None and ci not in ref.service(service).configuration_items:
        owner = service_of_item(ref, ci)
        errors["ci"] = (f"{ci} belongs to {owner}, not {service}" if owner
                        else f"{ci} is not an item of {service}; → takes a completion")
    if text.get("subcategory") and not text.get("category"):
        errors["subcategory"] = "Choose the category first"
    if errors:
        return None, errors
    report = NewIncident(
        title=title, impact=int(text["impact"]), urgency=int(text["urgency"]),
        description=text.get("description") or "", source=Source(text.get("source") or Source.USER_REPORT.value),
        detected_at=detected or now, reporter_name=text.get("reporter") or "",
        reporter_contact=text.get("contact") or "", reporter_department=text.get("department") or "",
        service=service or (service_of_item(ref, ci) or "" if ci else ""), configuration_item=ci,
        category=text.get("category") or "", subcategory=text.get("subcategory") or "",
        assignment_group=text.get("group") or "", initial_severity=text.get("severity"),
    )
    return report, {}
