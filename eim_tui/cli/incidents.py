"""What each `eim` subcommand does. `main.py` parses; these functions call the use cases and print."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from eim_tui.cli.errors import Parser, UsageError, emit_json
from eim_tui.domain.model import parse_key


def _key(text: str) -> int:
    try:
        return parse_key(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parsers(sub, common, db_only) -> None:
    """The lifecycle verbs, for scripts and chat bridges: same rules and timeline as the TUI."""
    def verb(name: str, help_text: str) -> Parser:
        # `assign --user U` names the assignee (as people say it); who acts is `eim --user NAME assign …`.
        p = sub.add_parser(name, parents=[db_only if name == "assign" else common], help=help_text)
        p.add_argument("key", type=_key, help="INC-000123")
        p.add_argument("--expect-version", type=int, default=None, metavar="V",
                       help="refuse if the incident is no longer at version V")
        return p

    verb("ack", "acknowledge an incident and take it")
    p = verb("assign", "assign to a group and/or a person")
    p.add_argument("--group")
    p.add_argument("--user", dest="assignee", metavar="NAME", help="assignee ('' to unassign)")
    p = verb("prioritize", "set impact and urgency (and optionally override the severity)")
    p.add_argument("--impact", type=int, required=True, choices=(1, 2, 3))
    p.add_argument("--urgency", type=int, required=True, choices=(1, 2, 3))
    p.add_argument("--severity", type=int, choices=range(1, 6), metavar="1-5", help="override; needs --reason")
    p.add_argument("--reason", default="")
    p = verb("categorize", "set category and subcategory")
    p.add_argument("--category", required=True)
    p.add_argument("--subcategory", default="")
    p = verb("hold", "put on hold (awaiting user, vendor or change pauses the SLA)")
    p.add_argument("--reason", required=True, help="awaiting_user, awaiting_vendor, awaiting_change or other")
    p.add_argument("--note", default="")
    verb("resume", "resume work on an incident on hold")
    p = verb("note", "add a diagnosis note")
    p.add_argument("--kind", required=True, help="observation, hypothesis, test, finding, why, root_cause, action")
    p.add_argument("--text", required=True)
    p.add_argument("--status", help="for a hypothesis: open, confirmed or rejected")
    p.add_argument("--result", default="", help="for a test: what happened")
    p = verb("resolve", "resolve with a resolution code and notes")
    p.add_argument("--code", required=True)
    p.add_argument("--notes", required=True)
    p.add_argument("--tested", default="")
    p.add_argument("--communication", default="")
    p = verb("close", "close a resolved incident")
    p.add_argument("--verified-by", default="")
    p.add_argument("--rating", type=int, choices=range(1, 6), metavar="1-5")
    p.add_argument("--comment", default="")
    p.add_argument("--lessons", default="")
    p.add_argument("--review-file", metavar="FILE", default=None,
                   help="post-incident review as JSON ('-' reads standard input): summary, highlights, "
                        "went_well, went_badly, actions=[{action, owner}] — a major incident needs one")
    p = verb("reopen", "reopen a resolved incident")
    p.add_argument("--reason", required=True)
    p = verb("cancel", "cancel an open incident")
    p.add_argument("--reason", required=True)
    p = verb("link", "link a parent (duplicate of), a problem or a change")
    p.add_argument("--parent", type=_key)
    p.add_argument("--problem")
    p.add_argument("--change")
    p.add_argument("--caused-by", metavar="CHG", help="the change record that caused it (CHG-000123)")
    p = verb("major", "mark (or with --off, unmark) a major incident")
    p.add_argument("--off", action="store_true")


def _done(incident, args) -> int:
    print(f"{incident.key} {incident.state.value} v{incident.version}")
    return 0


def cmd_ack(args, svc) -> int:
    return _done(svc.acknowledge(args.key, args.user, args.expect_version), args)


def cmd_assign(args, svc) -> int:
    if args.group is None and args.assignee is None:
        raise UsageError("say --group G and/or --user U")
    return _done(svc.assign(args.key, args.user, args.group, args.assignee, args.expect_version), args)


def cmd_prioritize(args, svc) -> int:
    return _done(
        svc.prioritize(args.key, args.user, args.impact, args.urgency, args.severity, args.reason, args.expect_version),
        args,
    )


def cmd_categorize(args, svc) -> int:
    return _done(svc.categorize(args.key, args.user, args.category, args.subcategory, args.expect_version), args)


def cmd_hold(args, svc) -> int:
    return _done(svc.put_on_hold(args.key, args.user, args.reason, args.note, args.expect_version), args)


def cmd_resume(args, svc) -> int:
    return _done(svc.resume(args.key, args.user, args.expect_version), args)


def cmd_note(args, svc) -> int:
    note = svc.add_note(args.key, args.user, args.kind, args.text, args.status, args.result)
    print(f"INC-{args.key:06d} note #{note.position} {note.kind.value}")
    return 0


def cmd_resolve(args, svc) -> int:
    return _done(
        svc.resolve(args.key, args.user, args.code, args.notes, args.tested, args.communication, args.expect_version),
        args,
    )


def cmd_close(args, svc) -> int:
    review = _read_review(args.review_file) if args.review_file else None
    return _done(
        svc.close(args.key, args.user, args.verified_by, args.rating, args.comment, args.lessons,
                  review=review, expected_version=args.expect_version),
        args,
    )


# A review is a page of text; reading stops past this, so /dev/zero or a disk image cannot hang `close`.
MAX_REVIEW_CHARS = 1_000_000


def _read_review(path: str) -> dict[str, Any]:
    """A post-incident review from a JSON file; the shape is checked by the close rule itself."""
    import json
    from pathlib import Path

    try:
        if path == "-":
            text = sys.stdin.read(MAX_REVIEW_CHARS + 1)
        else:
            with Path(path).expanduser().open(encoding="utf-8") as source:
                text = source.read(MAX_REVIEW_CHARS + 1)
        if len(text) > MAX_REVIEW_CHARS:
            raise UsageError(f"--review-file {path} is larger than a review can be "
                             f"({MAX_REVIEW_CHARS:,} characters); give the JSON review itself")
        review = json.loads(text)
    except OSError as exc:
        raise UsageError(f"cannot read --review-file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--review-file {path} is not UTF-8 text; give the review as JSON") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"--review-file {path} is not JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise UsageError(f"--review-file {path} is nested too deeply to be a review") from None
    if not isinstance(review, dict):
        raise UsageError(f"--review-file {path} must hold a JSON object with summary, went_well, went_badly, actions")
    return review


def cmd_reopen(args, svc) -> int:
    return _done(svc.reopen(args.key, args.user, args.reason, args.expect_version), args)


def cmd_cancel(args, svc) -> int:
    return _done(svc.cancel(args.key, args.user, args.reason, args.expect_version), args)


def cmd_link(args, svc) -> int:
    if args.caused_by is not None:
        if args.parent is not None or args.problem is not None or args.change is not None:
            raise UsageError("--caused-by links a change record on its own; run eim link again for the other links")
        from eim_tui.cli.changes import change_key
        from eim_tui.services.changes import ChangeCases

        linked = ChangeCases(svc).link_caused_by(args.user, args.key, change_key(args.caused_by), args.expect_version)
        return _done(linked, args)
    if args.parent is None and args.problem is None and args.change is None:
        raise UsageError("say --parent KEY, --problem REF, --change REF and/or --caused-by CHG")
    return _done(svc.link(args.key, args.user, args.parent, args.problem, args.change, args.expect_version), args)


def cmd_major(args, svc) -> int:
    return _done(svc.set_major(args.key, args.user, not args.off, args.expect_version), args)


# --- the foundation's commands ------------------------------------------------------------------


def cmd_demo(args, svc) -> int:
    from eim_tui.services.demo import generate

    count = generate(svc, incidents=args.incidents, seed=args.seed)
    print(f"added {count} demo incidents")
    return 0


def cmd_new(args, svc) -> int:
    from eim_tui.domain.intake import NewIncident, parse_when
    from eim_tui.domain.model import Source

    if args.from_email or (args.json and args.title is None):  # a report piped on stdin
        from eim_tui.ingest import reports
        from eim_tui.reference import ReferenceError

        try:
            if args.from_email:
                report = reports.report_from_email(_read_stdin("an e-mail"), args, svc)
            else:
                report = reports.report_from_event(_read_stdin("an event"), args, svc)
        except ReferenceError as exc:  # the alert routing rules do not load
            raise UsageError(str(exc)) from None
        return _log_new(report, args, svc)
    missing = [f"--{name}" for name in ("title", "impact", "urgency") if getattr(args, name) is None]
    if missing:
        raise UsageError(f"the following arguments are required: {', '.join(missing)} "
                         "(or pipe a report: --from-email < message.eml, --json < event.json)")
    detected = parse_when(args.detected, svc.clock.now()) if args.detected else None
    report = NewIncident(
        title=args.title,
        impact=args.impact,
        urgency=args.urgency,
        description=args.description,
        source=Source(args.source or Source.USER_REPORT.value),
        detected_at=detected,
        reporter_name=args.reporter or args.user,
        reporter_contact=args.contact,
        reporter_department=args.department,
        service=args.service,
        configuration_item=args.ci,
        category=args.category,
        subcategory=args.subcategory,
        assignment_group=args.group,
        assignee=args.assignee,
        initial_severity=args.severity_guess,
    )
    return _log_new(report, args, svc)


def _read_stdin(what: str) -> bytes:
    """The report piped on stdin; a terminal there means nothing was piped."""
    if sys.stdin.isatty():
        example = "--from-email < message.eml" if what == "an e-mail" else "--json < event.json"
        raise UsageError(f"pipe {what} on stdin, e.g. eim new {example}")
    return sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()


def _log_new(report, args, svc) -> int:
    from eim_tui.output.json_shapes import incident_dict

    incident = svc.log_incident(report, args.user)
    if args.json:
        emit_json(incident_dict(incident))
    else:
        print(incident.key)
    return 0


def cmd_list(args, svc) -> int:
    from eim_tui.domain.filters import FilterError, parse
    from eim_tui.output.json_shapes import queue_row_dict
    from eim_tui.domain.queue import View

    try:
        f = parse(args.filter)
    except FilterError as exc:
        raise UsageError(f"bad --filter: {exc}") from None
    groups = svc.user_groups(args.user)
    numbers = svc.queue(View(args.view), f, args.user, groups, limit=args.limit)
    by_number = {r.number: r for r in svc.rows(numbers, viewer=args.user)}  # confidential → placeholder
    rows = [by_number[n] for n in numbers if n in by_number]
    now = svc.clock.now()
    if args.json:
        emit_json([queue_row_dict(r, now) for r in rows])
        return 0
    for r in rows:
        d = queue_row_dict(r, now)
        print(f"{r.key}  S{r.priority}  {r.state.value:<11}  {_sla_text(d['sla']):<14}  {r.title}")
    return 0


def _sla_text(sla: dict[str, Any]) -> str:
    from eim_tui.domain.durations import format_countdown, format_duration

    state, left = sla["state"], sla["seconds_left"]
    if state is None:
        return "—"
    if state == "paused":
        return "paused"
    if state == "breached":
        return f"BREACHED {format_duration(-left)}"
    return ("⚠ " if state == "warning" else "") + format_countdown(left)


def cmd_show(args, svc) -> int:
    from eim_tui.output.json_shapes import details_dict

    try:
        number = parse_key(args.key)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    details = svc.details(number, viewer=args.user)  # a confidential incident only for the security group
    if args.json:
        from eim_tui.cli.changes import incident_change_fields
        from eim_tui.cli.problems import known_error_field

        emit_json({**details_dict(details), **incident_change_fields(svc, details.incident),
                   **known_error_field(svc, details.incident)})
        return 0
    from eim_tui.output.text import incident_text

    sys.stdout.write(incident_text(details))
    return 0


def cmd_db(args, svc) -> int:
    print(f"schema at revision {svc.upgrade_store()}")
    return 0
