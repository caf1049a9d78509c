"""`eim similar KEY [--json]`: resolved incidents like this one, and how each was resolved.

Found in the full-text index (title, description, diagnosis notes, resolution), best first: first
those holding every word of KEY's title, then those holding any word of its title or description.
Confidential incidents are neither shown nor searched from outside the security group.
"""

from __future__ import annotations

import sys

from eim_tui.cli.errors import emit_json
from eim_tui.cli.incidents import _key


def add_parsers(sub, common, db_only) -> None:
    similar = sub.add_parser("similar", parents=[common],
                             help="the resolved incidents most like one, with how each was resolved")
    similar.add_argument("key", type=_key, help="INC-000123")
    similar.add_argument("--limit", type=int, default=5, choices=range(1, 51), metavar="N",
                         help="how many (1-50, default 5)")
    similar.add_argument("--json", action="store_true", help="print {key, similar: [...]} as JSON")


def cmd_similar(args, svc) -> int:
    from eim_tui.domain.model import format_key
    from eim_tui.output.json_shapes import resolved_dict

    found = svc.similar_resolved(args.key, viewer=args.user, limit=args.limit)
    if args.json:
        emit_json({"key": format_key(args.key), "similar": [resolved_dict(r) for r in found]})
        return 0
    if not found:
        print(f"no resolved incident like {format_key(args.key)} yet")
        return 0
    for r in found:
        when = r.resolved_at.date().isoformat() if r.resolved_at else "—"
        code = r.resolution_code or "—"
        sys.stdout.write(f"{r.key}  {r.state.value:<9} {when}  {code:<12} {r.title}\n")
        if r.resolution_notes:
            sys.stdout.write(f"    {' '.join(r.resolution_notes.split())}\n")
    return 0
