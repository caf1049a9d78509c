"""`eim patterns`: recurring clusters of recent incidents no problem claims yet — problem candidates.

    eim patterns [--window 30d|all] [--min 5] [--json]

Each candidate is one line of reason (`12 incidents · vpn · network/tunnel · "tunnel drops" in 9
titles · last 30 days`) and its incidents; `--json` is the stable shape of services/patterns.py.
"""

from __future__ import annotations

import argparse
import sys

from eim_tui.cli.errors import emit_json

SHOW_KEYS = 12  # incident keys listed under a candidate in text; --json lists them all


def _window(text: str) -> str:
    from eim_tui.domain.errors import ValidationError
    from eim_tui.services.patterns import parse_window

    try:
        days = parse_window(text)
        return "all" if days is None else f"{days}d"
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--window ")) from None


def _minimum(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; e.g. --min 5") from None
    if value < 2:
        raise argparse.ArgumentTypeError(f"{text!r} is too small; a pattern needs at least 2 incidents")
    return value


def add_parsers(sub, common, db_only) -> None:
    pat = sub.add_parser("patterns", parents=[common],
                         help="recurring clusters of incidents not linked to a problem (problem candidates)")
    pat.add_argument("--window", default="30d", metavar="30d", type=_window,
                     help="how far back from now: days (30d) or weeks (6w), or all (the whole history, "
                          "e.g. an imported log of years ago; recency is then counted from the newest "
                          "incident); default 30d. A window that holds no incident says where the "
                          "newest one is")
    pat.add_argument("--min", dest="minimum", type=_minimum, default=5, metavar="N",
                     help="fewest incidents a candidate has (at least 2; default 5)")
    pat.add_argument("--json", action="store_true")


def cmd_patterns(args, svc) -> int:
    from eim_tui.services.patterns import Patterns

    sees = svc.access.context(args.user).sees_confidential
    data = Patterns(svc.db, svc.clock).candidates(args.window, args.minimum, include_confidential=sees)
    if args.json:
        emit_json(data)
        return 0
    if not data["candidates"]:
        where = "in the store" if data["days"] is None else f"in the last {data['days']} days"
        print(f"no recurring patterns of {data['min']} or more incidents {where}")
        if data["since"] and data["newest"] and data["newest"] < data["since"]:
            print(f"nothing was reported in that window: the newest incident is from {data['newest'][:10]}; "
                  "--window all looks at the whole history")
        return 0
    out = []
    for c in data["candidates"]:
        keys = c["incidents"]
        more = f" … +{len(keys) - SHOW_KEYS}" if len(keys) > SHOW_KEYS else ""
        out.append(f"{c['rank']:>3}. {c['reason']}\n     {' '.join(keys[:SHOW_KEYS])}{more}\n")
    sys.stdout.write("".join(out))
    return 0
