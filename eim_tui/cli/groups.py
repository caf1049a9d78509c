"""`eim groups …`: assignment groups as the notification service needs them (the catalogue issue
adds the rest).

    eim groups set NAME --notify URL [--notify URL]…   (replaces the group's channels; --notify '' clears)
    eim groups show NAME [--json]

Channel URLs are apprise URLs (mailto://, slack://, msteams://, ntfy://, json://…); their secrets
are never printed.
"""

from __future__ import annotations

from eim_tui.cli.errors import Parser, UsageError, emit_json


def add_parsers(sub, common, db_only) -> None:
    groups = sub.add_parser("groups", parents=[common], help="assignment groups: where each is notified")
    verbs = groups.add_subparsers(dest="groups_command", metavar="set|show", required=True, parser_class=Parser)
    change = verbs.add_parser("set", parents=[common], help="set the group's notification channels (admins only)")
    change.add_argument("name")
    change.add_argument("--notify", action="append", required=True, metavar="URL",
                        help="an apprise URL (repeatable); --notify '' removes every channel")
    show = verbs.add_parser("show", parents=[common], help="the group: shift lead, members, channels (masked)")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")


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
    from eim_tui.notify.channels import mask
    from eim_tui.services.notifications import NotificationCases

    cases = NotificationCases(svc)
    if args.groups_command == "set":
        urls = cases.set_channels(args.user, "group", args.name, checked_urls(args.notify))
        print(f"{args.name}: " + (", ".join(mask(u) for u in urls) if urls else "no channels"))
        return 0
    urls = cases.channels("group", args.name)
    group = svc.ref.group(args.name)
    lead = group.shift_lead if group else ""
    members = list(group.members) if group else []
    if args.json:
        emit_json({"name": args.name, "shift_lead": lead, "members": members,
                   "notify": [mask(u) for u in urls]})
        return 0
    print(f"{args.name}")
    print(f"  shift lead  {lead or '-'}")
    print(f"  members     {', '.join(members) or '-'}")
    print(f"  notify      {', '.join(mask(u) for u in urls) or '- (escalations to the group reach its members)'}")
    return 0
