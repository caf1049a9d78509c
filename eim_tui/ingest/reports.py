"""`eim new --from-email` and `eim new --json`: a report piped on stdin becomes a `NewIncident`.

An e-mail gives the title (subject), description (body) and reporter (From); the keyword rules of
`data/routing.toml` propose category and group, as the new-incident form does. A generic event
(docs/ingest.md) is routed by `data/alert_routing.toml` like one sent to `eim ingest`, but is
logged at once, without deduplication. Flags given on the command line win over both.
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from eim_tui.domain.alerts import AlertStatus
from eim_tui.domain.errors import ValidationError
from eim_tui.domain.intake import MAX_TITLE, NewIncident, parse_when
from eim_tui.domain.model import Source
from eim_tui.services.incidents import Services

DEFAULT_EMAIL_LEVEL = 3  # an e-mail says nothing of impact; the service desk triages it


def report_from_email(raw: bytes, args: argparse.Namespace, svc: Services) -> NewIncident:
    """Raises `ValidationError` for a message that cannot make an incident."""
    from eim_tui.ingest.email_report import read_email

    mail = read_email(raw)
    title = args.title or mail.subject or mail.body.strip().splitlines()[0]
    now = svc.clock.now()
    detected = parse_when(args.detected, now) if args.detected else None
    if detected is None and mail.sent_at is not None and mail.sent_at <= now + timedelta(minutes=5):
        detected = min(mail.sent_at, now)
    category, subcategory, group = args.category, args.subcategory, args.group
    if not (category or group):
        rule = next((r for r in svc.ref.routing_rules if r.matches(f"{mail.subject}\n{mail.body}", args.service)), None)
        if rule is not None:
            category, subcategory, group = rule.category, rule.subcategory, rule.group
    return NewIncident(
        title=title[:MAX_TITLE],
        impact=args.impact or DEFAULT_EMAIL_LEVEL,
        urgency=args.urgency or (2 if mail.urgent else DEFAULT_EMAIL_LEVEL),
        description=args.description or mail.body,
        source=Source(args.source or Source.EMAIL.value),
        detected_at=detected,
        reporter_name=args.reporter or mail.sender_name or mail.sender_address,
        reporter_contact=args.contact or mail.sender_address,
        reporter_department=args.department,
        service=args.service,
        configuration_item=args.ci,
        category=category,
        subcategory=subcategory,
        assignment_group=group,
        assignee=args.assignee,
        initial_severity=args.severity_guess,
    )


def report_from_event(raw: bytes, args: argparse.Namespace, svc: Services) -> NewIncident:
    """Raises `ValidationError` for an event that cannot be logged, `ReferenceError` for rules
    that do not load (`data/alert_routing.toml`)."""
    from eim_tui.ingest.adapters import PayloadError, decode_json, generic
    from eim_tui.ingest.processor import describe
    from eim_tui.ingest.routing import load_alert_routing

    try:
        (alert,) = generic(decode_json(raw))
    except PayloadError as exc:
        raise ValidationError(f"the event on stdin: {exc}") from None
    if alert.status is AlertStatus.RESOLVED:
        raise ValidationError("the event on stdin is resolved; only a firing event logs an incident "
                              "(send resolutions to eim ingest, which matches them by dedup_key)")
    route = load_alert_routing(svc.ref).route(alert)
    now = svc.clock.now()
    detected = parse_when(args.detected, now) if args.detected else None
    if detected is None and alert.starts_at is not None:
        detected = min(alert.starts_at, now)
    category = args.category or route.category
    report = NewIncident(
        title=args.title or route.title,
        impact=args.impact or route.impact,
        urgency=args.urgency or route.urgency,
        description=args.description or describe(alert, route),
        source=Source(args.source or Source.MONITORING.value),
        detected_at=detected,
        reporter_name=args.reporter or route.reporter_name or args.user,
        reporter_contact=args.contact or route.reporter_contact,
        reporter_department=args.department or route.reporter_department,
        service=args.service or route.service,
        configuration_item=args.ci or route.configuration_item,
        category=category,
        subcategory=args.subcategory or (route.subcategory if category == route.category else ""),
        assignment_group=args.group or route.assignment_group,
        assignee=args.assignee,
        initial_severity=args.severity_guess,
    )
    if not report.title.strip():
        raise ValidationError("the event has no title")
    return report
