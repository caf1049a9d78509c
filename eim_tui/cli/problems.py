"""`eim problem …`: problem records and known errors from a shell.

    eim problem new --title T [--service S] [--ci C] [--category C [--subcategory S]] [--group G] [--description D]
    eim problem list [--state S]… [--limit N] [--json]
    eim problem show PRB-000001 [--json]
    eim problem link INC-000042 PRB-000001          the incident's problem reference names it
    eim problem known-error PRB --workaround TEXT [--root-cause TEXT]
    eim problem resolve PRB [--root-cause TEXT]     ·   eim problem close PRB

`--json` output is stable (see the README, "Problems and known errors").
"""

from __future__ import annotations

import sys
from typing import Any

from eim_tui.cli.errors import Parser, UsageError, emit_json

STATES = ("open", "known_error", "resolved", "closed")


def add_parsers(sub, common, db_only) -> None:
    problem = sub.add_parser("problem", parents=[common], help="problem records and known errors")
    verbs = problem.add_subparsers(dest="problem_command", metavar="new|list|show|link|known-error|resolve|close",
                                   required=True, parser_class=Parser)
    new = verbs.add_parser("new", parents=[common], help="open a problem record and print its key")
    new.add_argument("--title", required=True)
    new.add_argument("--service", default="", metavar="NAME", help="the service it is about")
    new.add_argument("--ci", default="", metavar="NAME", help="the configuration item it is about")
    new.add_argument("--category", default="")
    new.add_argument("--subcategory", default="")
    new.add_argument("--group", default="", metavar="NAME", help="the owner group")
    new.add_argument("--description", default="")
    new.add_argument("--json", action="store_true")
    lst = verbs.add_parser("list", parents=[common], help="problems, the newest first")
    lst.add_argument("--state", action="append", default=[], choices=STATES)
    lst.add_argument("--limit", type=_positive, default=200, metavar="N")
    lst.add_argument("--json", action="store_true")
    show = verbs.add_parser("show", parents=[common], help="one problem with its incidents and timeline")
    show.add_argument("key")
    show.add_argument("--json", action="store_true")
    link = verbs.add_parser("link", parents=[common], help="link an incident to a problem")
    link.add_argument("incident", metavar="INCIDENT")
    link.add_argument("key", metavar="PROBLEM")
    link.add_argument("--expect-version", type=int, default=None, metavar="V", help="the incident's version")
    link.add_argument("--json", action="store_true")
    known = verbs.add_parser("known-error", parents=[common], help="record the workaround: a known error")
    known.add_argument("key")
    known.add_argument("--workaround", required=True)
    known.add_argument("--root-cause", default="")
    resolve = verbs.add_parser("resolve", parents=[common], help="the cause is removed")
    resolve.add_argument("key")
    resolve.add_argument("--root-cause", default="", help="needed unless recorded before")
    close = verbs.add_parser("close", parents=[common], help="close a resolved problem")
    close.add_argument("key")
    for p in (known, resolve, close):
        p.add_argument("--expect-version", type=int, default=None, metavar="V")
        p.add_argument("--json", action="store_true")


def _positive(text: str) -> int:
    import argparse

    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number of at least 1")
    return int(text)


def problem_key(text: str) -> int:
    from eim_tui.domain.problems import parse_problem_key

    try:
        return parse_problem_key(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def problem_dict(problem, incidents: int | None = None) -> dict[str, Any]:
    out = {
        "key": problem.key, "ref": problem.ref, "title": problem.title, "state": problem.state.value,
        "owner_group": problem.owner_group, "service": problem.service, "ci": problem.configuration_item,
        "category": problem.category, "subcategory": problem.subcategory, "description": problem.description,
        "root_cause": problem.root_cause, "workaround": problem.workaround,
        "created_at": _iso(problem.created_at), "created_by": problem.created_by, "updated_at": _iso(problem.updated_at),
        "resolved_at": _iso(problem.resolved_at), "closed_at": _iso(problem.closed_at), "version": problem.version,
    }
    if incidents is not None:
        out["incidents"] = incidents
    return out


def known_error_field(svc, incident) -> dict[str, Any]:
    """What `eim show --json` says about a known error the (open) incident matches: its key, title
    and workaround, or null."""
    from eim_tui.services.problems import ProblemCases

    match = ProblemCases(svc).known_error_of(incident)
    if match is None:
        return {"known_error": None}
    p = match.problem
    return {"known_error": {"key": p.key, "title": p.title, "workaround": p.workaround, "reason": match.reason}}


def cmd_problem(args, svc) -> int:
    from eim_tui.services.problems import ProblemCases

    cases = ProblemCases(svc)
    verb = args.problem_command
    if verb == "new":
        problem = cases.create(args.user, args.title, args.service, args.ci, args.category, args.subcategory,
                               args.group, args.description)
        return _done(problem, args)
    if verb == "list":
        from eim_tui.domain.problems import ProblemState

        found = cases.list([ProblemState(s) for s in args.state], args.limit)
        if args.json:
            emit_json([problem_dict(s.problem, s.incidents) for s in found])
            return 0
        for s in found:
            p = s.problem
            where = ", ".join(x for x in (p.service, p.configuration_item) if x) or "-"
            print(f"{p.key}  {p.state.value:<11}  {s.incidents:>4} inc  {p.title}  [{where}]")
        if not found:
            print("no problems" + (" like that" if args.state else "; open one with eim problem new"))
        return 0
    if verb == "show":
        return _show(cases, problem_key(args.key), args.user, args.json)
    number = problem_key(args.key)
    if verb == "link":
        from eim_tui.domain.model import parse_key

        try:
            incident = parse_key(args.incident)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        linked = cases.link(args.user, incident, number, args.expect_version)
        if args.json:
            emit_json({"incident": linked.key, "problem": linked.problem_ref, "version": linked.version})
        else:
            print(f"{linked.key} linked to {linked.problem_ref} v{linked.version}")
        return 0
    if verb == "known-error":
        return _done(cases.mark_known_error(args.user, number, args.workaround, args.root_cause, args.expect_version), args)
    if verb == "resolve":
        return _done(cases.resolve(args.user, number, args.root_cause, args.expect_version), args)
    return _done(cases.close(args.user, number, args.expect_version), args)


def _done(problem, args) -> int:
    if args.json:
        emit_json(problem_dict(problem))
    else:
        print(f"{problem.key} {problem.state.value} v{problem.version}")
    return 0


def _show(cases, number: int, viewer: str, as_json: bool) -> int:
    details = cases.details(number, viewer=viewer)
    p = details.problem
    incidents = [{"key": i.key, "title": i.title, "state": i.state, "severity": i.priority} for i in details.incidents]
    if as_json:
        emit_json({**problem_dict(p, len(incidents)), "linked_incidents": incidents,
                   "timeline": [{"seq": e.seq, "at": _iso(e.at), "actor": e.actor, "kind": e.kind,
                                 "summary": e.summary} for e in details.events]})
        return 0
    out = [f"{p.key}  {p.title}",
           f"  state        {p.state.label} (v{p.version})",
           f"  owner group  {p.owner_group or '-'}",
           f"  service      {p.service or '-'}",
           f"  CI           {p.configuration_item or '-'}",
           f"  category     {'/'.join(x for x in (p.category, p.subcategory) if x) or '-'}",
           f"  root cause   {p.root_cause or '-'}",
           f"  workaround   {p.workaround or '-'}"]
    if p.description:
        out.append(f"  about        {p.description}")
    out.append(f"incidents ({len(incidents)})")
    out += [f"  {i['key']}  Sev{i['severity']}  {i['state']:<11}  {i['title']}" for i in incidents]
    out.append("timeline")
    out += [f"  {e.at:%Y-%m-%d %H:%M:%S}Z  {e.actor}: {e.summary}" for e in details.events]
    sys.stdout.write("\n".join(out) + "\n")
    return 0
