"""Working an incident together from a shell: roles, tasks, post-incident actions, subscribers and
stakeholder updates (`eim service` delivers the updates and the reminders).

    eim role KEY [--commander U] [--scribe U] [--comms U] [--expert U]… [--clear ROLE]… [--json]
    eim task add KEY --what TEXT [--who U] [--due 2h|14:05|2026-12-06T10:00] [--action]
    eim task done KEY N
    eim task list KEY [--json]
    eim actions [--open] [--mine] [--json]
    eim update KEY (--text TEXT | --happening TEXT [--impact TEXT] [--next TEXT]) [--next-update WHEN]
    eim subscribe KEY (--user U | --group G | --url URL)
    eim unsubscribe KEY (--user U | --group G | --url URL)
"""

from __future__ import annotations

import argparse
from typing import Any

from eim_tui.cli.errors import Parser, UsageError, emit_json
from eim_tui.domain.model import format_key, parse_key

ROLE_NAMES = "commander, scribe, comms, expert"


def _key(text: str) -> int:
    try:
        return parse_key(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _task_number(text: str) -> int:
    if text.strip().lstrip("#").isdigit() and int(text.strip().lstrip("#")) >= 1:
        return int(text.strip().lstrip("#"))
    raise argparse.ArgumentTypeError(f"{text!r} is not a task number; see `eim task list KEY`")


def add_parsers(sub, common, db_only) -> None:
    role = sub.add_parser("role", parents=[common], help="set an incident's commander, scribe, comms lead, experts")
    role.add_argument("key", type=_key, help="INC-000123")
    role.add_argument("--commander", metavar="USER")
    role.add_argument("--scribe", metavar="USER")
    role.add_argument("--comms", metavar="USER", help="the communications lead")
    role.add_argument("--expert", action="append", default=[], metavar="USER", help="a subject expert (repeatable; adds)")
    role.add_argument("--clear", action="append", default=[], metavar="ROLE",
                      help=f"free a role first ({ROLE_NAMES}; repeatable)")
    role.add_argument("--json", action="store_true")

    task = sub.add_parser("task", parents=[common], help="tasks during an incident and post-incident actions")
    verbs = task.add_subparsers(dest="task_command", metavar="add|done|list", required=True, parser_class=Parser)
    add = verbs.add_parser("add", parents=[common], help="add a task (or with --action a post-incident action)")
    add.add_argument("key", type=_key)
    add.add_argument("--what", required=True, help="what is to be done")
    add.add_argument("--who", default="", metavar="USER", help="who does it")
    add.add_argument("--due", default="", metavar="WHEN", help="2h, in 3d, 14:05 or 2026-12-06T10:00 (local time)")
    add.add_argument("--action", action="store_true", help="a post-incident action (needs --who)")
    add.add_argument("--json", action="store_true")
    done = verbs.add_parser("done", parents=[common], help="mark task N done")
    done.add_argument("key", type=_key)
    done.add_argument("number", type=_task_number, metavar="N")
    lst = verbs.add_parser("list", parents=[common], help="the incident's tasks and actions")
    lst.add_argument("key", type=_key)
    lst.add_argument("--json", action="store_true")

    acts = sub.add_parser("actions", parents=[common], help="post-incident actions across incidents")
    acts.add_argument("--open", action="store_true", help="only those not done")
    acts.add_argument("--mine", action="store_true", help="only those you own")
    acts.add_argument("--json", action="store_true")

    upd = sub.add_parser("update", parents=[common], help="send a stakeholder update to the incident's subscribers")
    upd.add_argument("key", type=_key)
    upd.add_argument("--text", default=None, help="the whole update")
    upd.add_argument("--happening", default=None, help="template: what is happening")
    upd.add_argument("--impact", default="", help="template: who is affected and how")
    upd.add_argument("--next", default="", help="template: what we do next")
    upd.add_argument("--next-update", default="", metavar="WHEN",
                     help="when the next update comes (30m, 14:05, ISO); default: the severity's cadence")
    upd.add_argument("--json", action="store_true")

    for name, text in (("subscribe", "add a subscriber to the incident's stakeholder updates"),
                       ("unsubscribe", "remove a subscriber")):
        # Here --user names the subscriber (as `assign --user` names the assignee); who acts is `eim --user NAME …`.
        p = sub.add_parser(name, parents=[db_only], help=text)
        p.add_argument("key", type=_key)
        who = p.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", dest="target_user", metavar="USER")
        who.add_argument("--group", metavar="GROUP")
        who.add_argument("--url", metavar="URL", help="an apprise URL (json://…, mailto://…, slack://…)")


def _collab(svc):
    from eim_tui.services.collab import CollabCases

    return CollabCases(svc)


def _cadence(args) -> dict:
    from eim_tui.notify.settings import read_settings

    return read_settings(args.config)[0].cadence


def task_dict(task) -> dict[str, Any]:
    return {"incident": format_key(task.incident_number), "number": task.number, "kind": task.kind.value,
            "what": task.what, "who": task.owner, "due_at": task.due_at.isoformat() if task.due_at else None,
            "status": task.status.value, "created_by": task.created_by, "created_at": task.created_at.isoformat(),
            "done_by": task.done_by, "done_at": task.done_at.isoformat() if task.done_at else None}


def task_line(task, now) -> str:
    from eim_tui.domain.events import show

    late = "  OVERDUE" if task.overdue(now) else ""
    mark = "x" if task.status.value == "done" else " "
    kind = "action " if task.kind.value == "action" else ""
    due = f"  due {show(task.due_at)}" if task.due_at else ""
    return f"{task.label:<14} [{mark}] {kind}{task.what}  — {task.owner or 'nobody'}{due}{late}"


def cmd_role(args, svc) -> int:
    from eim_tui.domain.collab import IncidentRole, parse_role, roles_line

    holders: dict[IncidentRole, list[str]] = {}
    for role, name in ((IncidentRole.COMMANDER, args.commander), (IncidentRole.SCRIBE, args.scribe),
                       (IncidentRole.COMMS, args.comms)):
        if name is not None:
            holders[role] = [name]
    if args.expert:
        holders[IncidentRole.EXPERT] = list(args.expert)
    clear = [parse_role(r) for r in args.clear]
    collab = _collab(svc)
    if not holders and not clear:
        after = collab.collaboration(args.key, viewer=args.user)  # no change asked: show them
    else:
        after = collab.set_roles(args.key, args.user, holders, clear)
    if args.json:
        emit_json({"incident": format_key(args.key), **after.role_map()})
    else:
        print(f"{format_key(args.key)} {roles_line(after)}")
    return 0


def cmd_task(args, svc) -> int:
    from eim_tui.domain.collab import TaskKind, parse_due

    collab = _collab(svc)
    verb = args.task_command
    if verb == "add":
        due = parse_due(args.due, svc.clock.now(), None) if args.due.strip() else None
        task = collab.add_task(args.key, args.user, args.what, args.who, due,
                               TaskKind.ACTION if args.action else TaskKind.TASK)
        if args.json:
            emit_json(task_dict(task))
        else:
            print(f"{task.label} added")
        return 0
    if verb == "done":
        task = collab.finish_task(args.key, args.number, args.user)
        print(f"{task.label} done")
        return 0
    tasks = collab.tasks(args.key, viewer=args.user)
    if args.json:
        emit_json([task_dict(t) for t in tasks])
    else:
        now = svc.clock.now()
        for task in tasks:
            print(task_line(task, now))
        if not tasks:
            print(f"{format_key(args.key)} has no tasks; add one with `eim task add {format_key(args.key)} --what …`")
    return 0


def cmd_actions(args, svc) -> int:
    found = _collab(svc).actions(args.user, open_only=args.open, mine=args.mine)
    if args.json:
        emit_json([task_dict(t) for t in found])
        return 0
    now = svc.clock.now()
    for task in found:
        print(task_line(task, now))
    if not found:
        print("no post-incident actions" + (" open" if args.open else "") + (" of yours" if args.mine else ""))
    return 0


def cmd_update(args, svc) -> int:
    from eim_tui.domain.collab import parse_due, update_text
    from eim_tui.domain.events import show

    if args.text is not None and args.happening is not None:
        raise UsageError("give the whole update with --text, or the template's parts (--happening …), not both")
    now = svc.clock.now()
    collab = _collab(svc)
    if args.next_update.strip():
        next_at = parse_due(args.next_update, now, None)
    else:
        every = _cadence(args).get(svc.get(args.key).priority)
        next_at = now + every if every is not None else None
    if args.text is not None:
        text = args.text
    elif args.happening is not None:
        text = update_text(args.happening, args.impact, args.next, show(next_at) if next_at else "")
    else:
        raise UsageError("say what to tell: --text '…', or --happening '…' [--impact …] [--next …]")
    event = collab.post_update(args.key, args.user, text, next_at)
    if args.json:
        emit_json({"incident": format_key(args.key), "seq": event.seq, "text": text,
                   "next_update_at": next_at.isoformat() if next_at else None,
                   "subscribers": event.data.get("subscribers", 0)})
    else:
        print(f"{format_key(args.key)} update recorded for {event.data.get('subscribers', 0)} subscriber(s)"
              + (f"; next due {show(next_at)}" if next_at else ""))
    return 0


def _target(args) -> tuple[str, str]:
    if args.target_user is not None:
        return "user", args.target_user
    if args.group is not None:
        return "group", args.group
    from eim_tui.notify.channels import check_url

    if (wrong := check_url(args.url.strip())) is not None:
        raise UsageError(wrong)
    return "url", args.url.strip()


def cmd_subscribe(args, svc) -> int:
    return _subscribers(args, svc, add=True)


def cmd_unsubscribe(args, svc) -> int:
    return _subscribers(args, svc, add=False)


def _subscribers(args, svc, add: bool) -> int:
    from eim_tui.notify.channels import mask

    kind, target = _target(args)
    found = _collab(svc).subscribe(args.key, args.user, kind, target, add=add)
    shown = [mask(s.target) if s.kind == "url" else (s.target if s.kind == "user" else f"group:{s.target}")
             for s in found]
    print(f"{format_key(args.key)} subscribers: {', '.join(shown) or 'none'}")
    return 0
