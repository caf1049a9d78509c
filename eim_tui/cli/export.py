"""`eim export`: one incident as a Markdown post-incident report or JSON, or every incident as
JSON lines or CSV (history out).

    eim export INC-000123 --format md --output report.md
    eim export INC-000123 --format json          # the same shape as `eim show --json`
    eim export --format csv --output all.csv     # every incident, one row each
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

from eim_tui.cli.errors import UsageError
from eim_tui.domain.model import parse_key


def add_parsers(sub, common, db_only) -> None:
    p = sub.add_parser("export", parents=[common], help="export an incident (md/json) or every incident (json/csv)")
    p.add_argument("key", nargs="?", default=None, help="INC-000123; leave out to export every incident")
    p.add_argument("--format", choices=("md", "json", "csv"), default=None,
                   help="one incident: md (default) or json; every incident: json lines (default) or csv")
    p.add_argument("--output", "-o", metavar="FILE", default="-", help="write here instead of standard output")


@contextmanager
def _opened(target: str):
    if target == "-":
        yield sys.stdout
        return
    path = Path(target).expanduser()
    if path.parent and not path.parent.exists():
        raise UsageError(f"cannot write {target}: the directory {path.parent} does not exist")
    with path.open("w", encoding="utf-8", newline="") as out:
        yield out


def cmd_export(args, svc) -> int:
    from eim_tui.output import export

    if args.key is not None:
        try:
            number = parse_key(args.key)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        fmt = args.format or "md"
        if fmt not in export.FORMATS_ONE:
            raise UsageError(f"one incident exports as md or json, not {fmt} (csv is for every incident)")
        # A confidential incident is refused outside the security group (one line, exit 2).
        text = export.render(svc.details(number, viewer=args.user), fmt, generated_at=svc.clock.now())
        with _opened(args.output) as out:
            out.write(text)
        if args.output != "-":
            print(f"wrote {args.output}", file=sys.stderr)
        return 0
    fmt = args.format or "json"
    if fmt not in export.FORMATS_ALL:
        raise UsageError(f"every incident exports as json (lines) or csv, not {fmt}; give a KEY for md")
    # Confidential incidents go out as placeholders to those outside the security group.
    with svc.all_incidents(args.user) as incidents, _opened(args.output) as out:
        count = export.write_all(incidents, fmt, out)
    if args.output != "-":
        print(f"wrote {count} incidents to {args.output}", file=sys.stderr)
    return 0
