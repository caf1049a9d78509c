"""`eim ssh authorized-keys`: the shared SSH account's `authorized_keys`, one line per person's key.

    eim ssh authorized-keys [--command PATH] > ~oncall/.ssh/authorized_keys

Each line forces `eim --ssh-identity NAME` for its key (`restrict,pty`: no forwarding, a terminal
for the TUI), so whoever holds the key is NAME in eim and nobody else; a key not listed gets no
eim at all (sshd refuses it). `eim --ssh-identity` is trusted only when sshd started it for the
`[ssh] account` (services/identity.py). A command the person gave to ssh (`ssh oncall@jump list`)
arrives in SSH_ORIGINAL_COMMAND and runs as `eim --ssh-identity NAME list`; it may not name a
store or a user (`--db`, `--user`, `--ssh-identity`).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Sequence

from eim_tui.cli.errors import Parser, UsageError

REFUSED_IN_COMMAND = ("--db", "--user", "--ssh-identity")


def add_parsers(sub, common, db_only) -> None:
    ssh = sub.add_parser("ssh", parents=[common], help="SSH as the way in: the shared account's authorized_keys")
    verbs = ssh.add_subparsers(dest="ssh_command", metavar="authorized-keys", required=True, parser_class=Parser)
    keys = verbs.add_parser("authorized-keys", parents=[common],
                            help="print authorized_keys lines that run eim as each key's person")
    keys.add_argument("--command", dest="program", metavar="PATH", default=None,
                      help="the eim program sshd runs (default: the eim found on PATH)")


def cmd_ssh(args, svc) -> int:
    program = args.program or shutil.which("eim") or os.path.abspath(sys.argv[0])
    if any(c in program for c in '"\n\\'):
        raise UsageError(f"{program!r} cannot stand in an authorized_keys command; give a plain path with --command")
    listed = svc.access.ssh_keys()
    if not listed:
        print("# no SSH keys yet: add one with eim users set NAME --ssh-key 'ssh-ed25519 AAAA…'", file=sys.stderr)
    for name, key in listed:
        forced = f"{program} --ssh-identity {shlex.quote(name)}"
        print(f'command="{forced}",restrict,pty {key.line()}')
    return 0


def forced_argv(argv: Sequence[str] | None) -> list[str]:
    """The command line for a run sshd started from an `authorized_keys` line: the person's own
    command (SSH_ORIGINAL_COMMAND) after `--ssh-identity NAME`; unchanged for any other run."""
    words = list(sys.argv[1:] if argv is None else argv)
    original = os.environ.get("SSH_ORIGINAL_COMMAND", "")
    if not original or not words or words[0] != "--ssh-identity" or len(words) != 2:
        return words
    try:
        extra = shlex.split(original)
    except ValueError:
        raise UsageError("cannot read the command given to ssh (unbalanced quotes)") from None
    if extra and os.path.basename(extra[0]) == "eim":
        extra = extra[1:]  # `ssh oncall@jump eim list` as well as `ssh oncall@jump list`
    for word in extra:
        if word.split("=", 1)[0] in REFUSED_IN_COMMAND:
            raise UsageError(f"{word.split('=', 1)[0]} cannot be given through ssh: your key decides who you are")
    return words + extra
