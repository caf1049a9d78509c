"""`eim users …`: who may use eim and with which role (admins only, or anyone while no admin exists).

    eim users list [--json]
    eim users add NAME --role ROLE [--group G]… [--full-name TEXT] [--email ADDR]
    eim users set NAME [--role ROLE] [--add-group G]… [--remove-group G]… [--notify URL]…
    eim users show NAME [--json]        (channel URLs masked)
    eim users set NAME --ssh-key 'ssh-ed25519 AAAA… bob@laptop' | --clear-ssh-keys
    eim users retire NAME               (login revoked; the timeline keeps what they did)
    eim users whoami [--json]           (and how that was established: OS login, database login, SSH key)
"""

from __future__ import annotations

from typing import Any

from eim_tui.cli.errors import Parser, emit_json
from eim_tui.domain.model import Role, User
from eim_tui.domain.ssh_keys import parse_public_key

ROLES = ", ".join(r.value for r in Role)


def add_parsers(sub, common, db_only) -> None:
    users = sub.add_parser("users", parents=[common], help="manage users, their roles and groups")
    verbs = users.add_subparsers(dest="users_command", metavar="list|add|set|retire|show|whoami", required=True,
                                 parser_class=Parser)
    lst = verbs.add_parser("list", parents=[common], help="every user with role and groups")
    lst.add_argument("--json", action="store_true")
    add = verbs.add_parser("add", parents=[common], help="add a user (admins only)")
    add.add_argument("name")
    add.add_argument("--role", required=True, help=ROLES)
    add.add_argument("--group", action="append", default=[], metavar="G", help="a group to join (repeatable)")
    add.add_argument("--full-name", default="")
    add.add_argument("--email", default="")
    change = verbs.add_parser("set", parents=[common], help="change a user's role or groups (admins only)")
    change.add_argument("name")
    change.add_argument("--role", default=None, help=ROLES)
    change.add_argument("--add-group", action="append", default=[], metavar="G")
    change.add_argument("--remove-group", action="append", default=[], metavar="G")
    change.add_argument("--notify", action="append", default=None, metavar="URL",
                        help="where eim service reaches them: an apprise URL (repeatable; replaces the list; '' clears)")
    change.add_argument("--ssh-key", action="append", default=[], metavar="KEY",
                        help="a public key (one .pub line) that identifies them through the shared SSH account")
    change.add_argument("--clear-ssh-keys", action="store_true", help="remove every SSH key of theirs first")
    retire = verbs.add_parser("retire", parents=[common], help="they may no longer use eim (admins only)")
    retire.add_argument("name")
    show = verbs.add_parser("show", parents=[common], help="one user: role, groups, channels (secrets masked)")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    who = verbs.add_parser("whoami", parents=[common], help="who eim thinks you are, and your role")
    who.add_argument("--json", action="store_true")


def user_dict(user: User, known: bool = True) -> dict[str, Any]:
    return {"name": user.name, "full_name": user.full_name, "email": user.email, "role": user.role.value,
            "groups": list(user.groups), "known": known}


def _line(user: User) -> str:
    return f"{user.name:<16} {user.role.value:<11} {','.join(user.groups) or '-'}"


def cmd_users(args, svc) -> int:
    access = svc.access
    verb = args.users_command
    if verb == "list":
        users = access.list_users()
        if args.json:
            emit_json([user_dict(u) for u in users])
        else:
            for user in users:
                print(_line(user))
        return 0
    if verb == "add":
        user = access.add_user(args.user, args.name, args.role, args.group, args.full_name, args.email)
        print(f"added {_line(user)}")
        return 0
    if verb == "set":
        from eim_tui.cli.groups import checked_urls

        urls = checked_urls(args.notify) if args.notify is not None else None  # bad URLs: nothing written
        keys = [parse_public_key(k) for k in args.ssh_key]  # a malformed key: refused, nothing written
        if args.clear_ssh_keys:
            print(f"{args.name}: {access.clear_ssh_keys(args.user, args.name)} SSH key(s) removed")
        for key in keys:
            access.add_ssh_key(args.user, args.name, key.line())
            print(f"{args.name}: SSH key {key.fingerprint} added")
        if args.role is not None or args.add_group or args.remove_group or (urls is None and not keys
                                                                             and not args.clear_ssh_keys):
            user = access.set_user(args.user, args.name, args.role, args.add_group, args.remove_group)
            print(f"changed {_line(user)}")
        if urls is not None:
            _print_channels(args.name, _notifications(svc).set_channels(args.user, "user", args.name, urls))
        return 0
    if verb == "retire":
        at = access.retire_user(args.user, args.name)
        print(f"retired {args.name} at {at:%Y-%m-%d %H:%M} UTC (login revoked; their timeline stays)")
        return 0
    if verb == "show":
        from eim_tui.cli.errors import UsageError
        from eim_tui.notify.channels import mask

        user = access.get_user(args.name)
        if user is None:
            raise UsageError(f"no user {args.name!r}; see `eim users list`")
        urls = [mask(u) for u in _notifications(svc).channels("user", args.name)]
        if args.json:
            emit_json({**user_dict(user), "notify": urls})
        else:
            print(_line(user))
            _print_channels(args.name, urls, masked=True)
        return 0
    stored = access.get_user(args.user)
    context = access.context(args.user)
    user = stored or User(name=args.user, role=context.role)
    how = args.identity.how if getattr(args, "identity", None) else ""
    if args.json:
        emit_json({**user_dict(user, known=stored is not None), "established_by": how})
    else:
        suffix = "" if stored else " (not in the store: the default role)"
        print(f"{_line(user)}{suffix}")
        if how:
            print(f"you are {user.name}: {how}")
    return 0


def _notifications(svc):
    from eim_tui.services.notifications import NotificationCases

    return NotificationCases(svc)


def _print_channels(name: str, urls: list[str], masked: bool = False) -> None:
    from eim_tui.notify.channels import mask

    shown = urls if masked else [mask(u) for u in urls]
    print(f"{name} notify: " + (", ".join(shown) if shown else "none (eim service uses the [notify] defaults)"))
