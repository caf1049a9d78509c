"""`eim groups …`: assignment groups — members, shift lead, description (part of the catalogue, kept
in the store) and where each is notified.

    eim groups list [--json]
    eim groups show NAME [--json]
    eim groups add NAME [--description D] [--shift-lead USER] [--member USER]…        (admins)
    eim groups set NAME [--description D] [--shift-lead USER] [--add-member USER]… [--remove-member USER]…
                        [--notify URL]…   (--notify replaces the group's channels; --notify '' clears)

Channel URLs are apprise URLs (mailto://, slack://, msteams://, ntfy://, json://…); their secrets
are never printed.
"""

from __future__ import annotations

from eim_tui.cli.errors import Parser, UsageError, emit_json


def add_parsers(sub, common, db_only) -> None:
    groups = sub.add_parser("groups", parents=[common], help="assignment groups: members, shift lead, channels")
    verbs = groups.add_subparsers(dest="groups_command", metavar="list|show|add|set", required=True,
                                  parser_class=Parser)
    verbs.add_parser("list", parents=[common], help="the groups").add_argument("--json", action="store_true")
    show = verbs.add_parser("show", parents=[common], help="the group: shift lead, members, channels (masked)")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    add = verbs.add_parser("add", parents=[common], help="add a group (admins)")
    add.add_argument("name")
    add.add_argument("--description", default="")
    add.add_argument("--shift-lead", default="", metavar="USER")
    add.add_argument("--member", action="append", metavar="USER", help="repeatable")
    change = verbs.add_parser("set", parents=[common], help="change a group or its notification channels (admins)")
    change.add_argument("name")
    change.add_argument("--description")
    change.add_argument("--shift-lead", metavar="USER", help="'' for none")
    change.add_argument("--add-member", action="append", metavar="USER")
    change.add_argument("--remove-member", action="append", metavar="USER")
    change.add_argument("--notify", action="append", metavar="URL",
                        help="an apprise URL (repeatable); --notify '' removes every channel")


def checked_urls(given: list[str]) -> list[str]:
    """The URLs to store: each must be one apprise can use; a lone '' means none."""
    from eim_tui.notify.channels import check_url

    urls = [u.strip() for u in given if u.strip()]
    if len(urls) != len(given) and urls:
        raise UsageError("--notify '' clears the channels and cannot be mixed with URLs")
    for url in urls:
        if (wrong := check_url(url)) is not None:
            raise UsageError(wrong)
    return urls


def cmd_groups(args, svc) -> int:
    from eim_tui.cli.catalogue import _done, _name, _table
    from eim_tui.services.catalogue import require

    cat = svc.catalogue
    verb = args.groups_command
    if verb == "list":
        found = cat.groups()
        if args.json:
            emit_json(found)
        else:
            _table([{**g, "members": len(g["members"])} for g in found],
                   [("name", "GROUP"), ("shift_lead", "SHIFT LEAD"), ("members", "MEMBERS"),
                    ("description", "DESCRIPTION")])
        return 0
    if verb == "show":
        return _show(args, svc)
    if verb == "add":
        def added(before):
            if before is not None:
                raise UsageError(f"group {args.name!r} exists already; change it with eim groups set {args.name} …")
            return {"name": _name(args.name), "description": args.description.strip(),
                    "shift_lead": args.shift_lead.strip(), "members": sorted(set(args.member or []))}
        return _done(cat.edit(args.user, "group", args.name, added))
    catalogue_change = (args.description is not None or args.shift_lead is not None or args.add_member
                        or args.remove_member)
    if not catalogue_change and args.notify is None:
        raise UsageError("nothing to change; give --description, --shift-lead, --add-member, --remove-member "
                         "and/or --notify URL")
    urls = checked_urls(args.notify) if args.notify is not None else None  # refuse a bad URL before changing anything
    if catalogue_change:
        overlap = set(args.add_member or []) & set(args.remove_member or [])
        if overlap:
            raise UsageError(f"cannot add and remove the same member: {', '.join(sorted(overlap))}")

        def changed(before):
            before = require(before, "group", args.name, [g["name"] for g in cat.groups()])
            missing = sorted(set(args.remove_member or []) - set(before["members"]))
            if missing:
                raise UsageError(f"{missing[0]} is not a member of {args.name}")
            members = (set(before["members"]) | set(args.add_member or [])) - set(args.remove_member or [])
            return {**before, "description": before["description"] if args.description is None else args.description.strip(),
                    "shift_lead": before["shift_lead"] if args.shift_lead is None else args.shift_lead.strip(),
                    "members": sorted(members)}
        _done(cat.edit(args.user, "group", args.name, changed))
        svc.access.forget()  # members' groups changed: read them again
    if urls is not None:
        from eim_tui.notify.channels import mask
        from eim_tui.services.notifications import NotificationCases

        stored = NotificationCases(svc).set_channels(args.user, "group", args.name, urls)
        print(f"{args.name}: " + (", ".join(mask(u) for u in stored) if stored else "no channels"))
    return 0


def _show(args, svc) -> int:
    from eim_tui.notify.channels import mask
    from eim_tui.services.catalogue import require
    from eim_tui.services.notifications import NotificationCases

    cat = svc.catalogue
    group = require(cat.group(args.name), "group", args.name, [g["name"] for g in cat.groups()])
    urls = NotificationCases(svc).channels("group", args.name)
    owns = [s["name"] for s in cat.services() if s["owner_group"] == args.name]
    if args.json:
        emit_json({**group, "owns_services": owns, "notify": [mask(u) for u in urls]})
        return 0
    print(f"{args.name}")
    print(f"  description {group['description'] or '-'}")
    print(f"  shift lead  {group['shift_lead'] or '-'}")
    print(f"  members     {', '.join(group['members']) or '-'}")
    print(f"  services    {', '.join(owns) or '-'}")
    print(f"  notify      {', '.join(mask(u) for u in urls) or '- (escalations to the group reach its members)'}")
    return 0
