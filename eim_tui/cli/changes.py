"""`eim change …`: change records from a shell.

    eim change new --title T --start WHEN --end WHEN --risk low|medium|high --service S [--ci C]…
    eim change list [--state S] [--service S] [--limit N] [--json]
    eim change show CHG-000001 [--json]
    eim change start|complete CHG [--note TEXT]   ·   eim change fail|cancel CHG --reason TEXT
    eim change report [--json]        change failure rate per service
    eim change verify                 check the changes' hash chain

WHEN is ISO 8601 (`2026-12-05T22:00Z`; without an offset, local time), `now`, `in 2h` / `+2h`, or
`30m ago`. `--json` output is stable (see the README, "Changes").
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta
from typing import Any

from eim_tui.cli.errors import Parser, UsageError, emit_json

_AHEAD = re.compile(r"^\s*(?:in\s+|\+)(\d+)\s*([smhd])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
STATES = ("planned", "in_progress", "completed", "failed", "cancelled")


def add_parsers(sub, common, db_only) -> None:
    change = sub.add_parser("change", parents=[common], help="change records: planned work, windows, caused-by links")
    verbs = change.add_subparsers(dest="change_command", metavar="new|list|show|start|complete|fail|cancel|report|verify",
                                  required=True, parser_class=Parser)
    new = verbs.add_parser("new", parents=[common], help="record a planned change and print its key")
    new.add_argument("--title", required=True)
    new.add_argument("--start", required=True, metavar="WHEN", help="window start: ISO 8601, now, in 2h")
    new.add_argument("--end", required=True, metavar="WHEN", help="window end, after the start")
    new.add_argument("--risk", required=True, choices=("low", "medium", "high"))
    new.add_argument("--service", action="append", default=[], metavar="NAME", help="an affected service (repeatable)")
    new.add_argument("--ci", action="append", default=[], metavar="NAME", help="an affected configuration item (repeatable)")
    new.add_argument("--owner", default="", help="who carries it out (default: you)")
    new.add_argument("--description", default="")
    new.add_argument("--json", action="store_true")
    lst = verbs.add_parser("list", parents=[common], help="changes, the latest window first")
    lst.add_argument("--state", action="append", default=[], choices=STATES)
    lst.add_argument("--service", default="")
    lst.add_argument("--limit", type=_positive, default=200, metavar="N")
    lst.add_argument("--json", action="store_true")
    show = verbs.add_parser("show", parents=[common], help="one change with its timeline and incidents")
    show.add_argument("key")
    show.add_argument("--json", action="store_true")
    for name, what, reason in (("start", "the work begins: alerts on its services open during it", False),
                               ("complete", "the work is done", False),
                               ("fail", "the work failed or was rolled back", True),
                               ("cancel", "a planned change will not happen", True)):
        p = verbs.add_parser(name, parents=[common], help=what)
        p.add_argument("key")
        if reason:
            p.add_argument("--reason", required=True)
        else:
            p.add_argument("--note", default="")
        p.add_argument("--expect-version", type=int, default=None, metavar="V")
        p.add_argument("--json", action="store_true")
    report = verbs.add_parser("report", parents=[common], help="change failure rate per service")
    report.add_argument("--json", action="store_true")
    verbs.add_parser("verify", parents=[common], help="check the changes' timeline hash chain")


def _positive(text: str) -> int:
    import argparse

    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number of at least 1")
    return int(text)


def change_key(text: str) -> int:
    from eim_tui.domain.changes import parse_change_key

    try:
        return parse_change_key(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def when(text: str, now: datetime, option: str) -> datetime:
    """A window's start or end as given on the command line."""
    from eim_tui.domain.errors import ValidationError
    from eim_tui.domain.intake import parse_when

    now = now.replace(microsecond=0)  # a window is planned to the second
    if text.strip().lower() == "now":
        return now
    if m := _AHEAD.match(text):
        return now + timedelta(**{_UNITS[m.group(2).lower()]: int(m.group(1))})
    try:
        return parse_when(text, now)
    except ValidationError:
        raise UsageError(f"{option} {text!r} is not a time; write 2026-12-05T22:00Z, now, in 2h or 30m ago") from None
    except (OverflowError, ValueError):
        raise UsageError(f"{option} {text!r} is not a real date and time") from None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def change_dict(change) -> dict[str, Any]:
    return {
        "key": change.key, "title": change.title, "state": change.state.value, "risk": change.risk.value,
        "owner": change.owner, "description": change.description,
        "window": {"start": _iso(change.planned_start), "end": _iso(change.planned_end)},
        "started_at": _iso(change.started_at), "finished_at": _iso(change.finished_at), "outcome": change.outcome,
        "services": list(change.services), "cis": list(change.cis),
        "created_at": _iso(change.created_at), "created_by": change.created_by, "version": change.version,
    }


def link_dict(link) -> dict[str, Any]:
    return {"relation": link.relation.value, **change_dict(link.change)}


def incident_change_fields(svc, incident) -> dict[str, Any]:
    """What `eim show --json` adds about changes and monitoring links: the changes the incident is
    tied to (caused by, during), the recent changes on its service/CI, its alerts' links."""
    from eim_tui.services.changes import ChangeCases

    cases = ChangeCases(svc)
    return {
        "changes": [link_dict(link) for link in cases.links_of(incident.number)],
        "recent_changes": [change_dict(c) for c in cases.recent_on(incident.service, incident.configuration_item)],
        "links": cases.alert_links(incident.number),
    }


def _line(change) -> str:
    start, end = change.planned_start, change.planned_end
    where = ", ".join([*change.services, *change.cis])
    return (f"{change.key}  {change.state.value:<11}  {change.risk.value:<6}  "
            f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}Z  {change.title}  [{where}]")


def cmd_change(args, svc) -> int:
    from eim_tui.services.changes import ChangeCases

    cases = ChangeCases(svc)
    verb = args.change_command
    if verb == "new":
        now = svc.clock.now()
        start, end = when(args.start, now, "--start"), when(args.end, now, "--end")
        change = cases.create(args.user, args.title, start, end, args.risk, args.service, args.ci,
                              args.owner, args.description)
        return _done(change, args)
    if verb == "list":
        from eim_tui.domain.changes import ChangeState

        found = cases.list([ChangeState(s) for s in args.state], args.service.strip(), args.limit)
        if args.json:
            emit_json([change_dict(c) for c in found])
        else:
            for change in found:
                print(_line(change))
            if not found:
                print("no changes" + (" like that" if args.state or args.service else "; record one with eim change new"))
        return 0
    if verb == "show":
        return _show(cases, change_key(args.key), args.json)
    if verb == "report":
        return _report(cases, args.json)
    if verb == "verify":
        report = cases.verify()
        print(report.describe().replace("timeline", "change timeline", 1))
        return 0 if report.intact else 1
    number = change_key(args.key)
    step = {"start": cases.start, "complete": cases.complete, "fail": cases.fail, "cancel": cases.cancel}[verb]
    text = args.reason if verb in ("fail", "cancel") else args.note
    return _done(step(args.user, number, text, args.expect_version), args)


def _done(change, args) -> int:
    if args.json:
        emit_json(change_dict(change))
    else:
        print(f"{change.key} {change.state.value} v{change.version}")
    return 0


def _show(cases, number: int, as_json: bool) -> int:
    from eim_tui.domain.model import format_key

    details = cases.details(number)
    change = details.change
    incidents = [{"key": format_key(n), "relation": r.value} for n, r in details.incidents]
    if as_json:
        emit_json({**change_dict(change), "incidents": incidents,
                   "timeline": [{"seq": e.seq, "at": _iso(e.at), "actor": e.actor, "kind": e.kind,
                                 "summary": e.summary} for e in details.events]})
        return 0
    out = [f"{change.key}  {change.title}",
           f"  state      {change.state.label} (v{change.version})",
           f"  risk       {change.risk.value}",
           f"  window     {_iso(change.planned_start)} → {_iso(change.planned_end)}",
           f"  ran        {_iso(change.started_at) or '-'} → {_iso(change.finished_at) or '-'}",
           f"  owner      {change.owner or '-'}",
           f"  services   {', '.join(change.services) or '-'}",
           f"  CIs        {', '.join(change.cis) or '-'}"]
    if change.description:
        out.append(f"  about      {change.description}")
    if change.outcome:
        out.append(f"  outcome    {change.outcome}")
    out.append("  incidents  " + (", ".join(f"{i['key']} ({i['relation'].replace('_', ' ')})" for i in incidents) or "-"))
    out.append("timeline")
    out += [f"  {e.at:%Y-%m-%d %H:%M:%S}Z  {e.actor}: {e.summary}" for e in details.events]
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def _report(cases, as_json: bool) -> int:
    rates = cases.report()
    if as_json:
        emit_json({"services": [{"service": r.service, "completed": r.completed, "caused_incidents": r.caused_incidents,
                                 "failed": r.failed, "change_failure_rate": None if r.rate is None else round(r.rate, 4),
                                 "changes_with_incidents": r.changes} for r in rates]})
        return 0
    if not rates:
        print("no completed or failed changes yet")
        return 0
    print(f"{'service':<24} {'completed':>9} {'caused':>6} {'rate':>6} {'failed':>6}")
    for r in rates:
        rate = "-" if r.rate is None else f"{r.rate:.0%}"
        print(f"{r.service:<24} {r.completed:>9} {r.caused_incidents:>6} {rate:>6} {r.failed:>6}")
    return 0
