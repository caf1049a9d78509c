"""`eim import` (history in from another ticket system) and `eim report` (what the history says).

    eim import servicenow incident_event_log.csv.gz [--dry-run]
    eim import csv export.csv --map map.toml [--dry-run]
    eim report [--from 2016-03-01] [--to 2016-03-31] [--by severity|category|service|group|assignee|month|week]
               [--json|--csv|--md]
    eim report --process [--json|--csv|--md]           # where incidents wait
"""

from __future__ import annotations

import sys
import time

from eim_tui.cli.errors import UsageError, emit_json

GROUPINGS = ("severity", "category", "service", "group", "assignee", "month", "week")
SHOW_BAD = 20  # bad rows listed one per line on stderr; the rest are counted


def add_parsers(sub, common, db_only) -> None:
    imp = sub.add_parser("import", parents=[common], help="import ticket history (ServiceNow event log, any CSV)")
    kinds = imp.add_subparsers(dest="import_kind", metavar="servicenow|csv", required=True,
                               parser_class=type(imp))
    sn = kinds.add_parser("servicenow", parents=[common], help="the ServiceNow incident event log (.csv or .csv.gz)")
    sn.add_argument("file")
    sn.add_argument("--dry-run", action="store_true", help="read and check everything, write nothing")
    other = kinds.add_parser("csv", parents=[common], help="any ticket export, read through a map (TOML)")
    other.add_argument("file")
    other.add_argument("--map", required=True, metavar="MAP.toml",
                       help="columns, date format, separator, encoding, state names (docs/import-map.example.toml)")
    other.add_argument("--dry-run", action="store_true", help="read and check everything, write nothing")

    rep = sub.add_parser("report", parents=[common], help="MTTA, MTTR, SLA compliance… per group; --process: where incidents wait")
    rep.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="first day (default: the first incident's)")
    rep.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last day, included (default: today)")
    rep.add_argument("--by", default="severity", metavar="|".join(GROUPINGS),
                     help="group by one of: " + ", ".join(GROUPINGS) + " (default severity)")
    rep.add_argument("--process", action="store_true", help="time spent per state and the transitions between states")
    out = rep.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--csv", action="store_true")
    out.add_argument("--md", action="store_true")


def cmd_import(args, svc) -> int:
    from eim_tui.services.import_formats import SERVICENOW, load_map
    from eim_tui.services.importing import import_history

    imap = load_map(args.map) if args.import_kind == "csv" else SERVICENOW
    bar = _ProgressBar() if sys.stderr.isatty() else None
    try:
        summary = import_history(svc, args.file, imap, dry_run=args.dry_run, progress=bar)
    finally:
        if bar is not None:
            bar.finish()
    for bad in summary.bad[:SHOW_BAD]:
        print(f"eim: {args.file}:{bad.line}: {bad.reason} (row skipped)", file=sys.stderr)
    if len(summary.bad) > SHOW_BAD:
        print(f"eim: … and {len(summary.bad) - SHOW_BAD:,} more bad rows", file=sys.stderr)
    print(summary.line())
    return 0


class _ProgressBar:
    """A one-line bar on stderr (only when stderr is a terminal)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        seconds = time.monotonic() - self.started
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} tickets {seconds:4.0f}s")
        sys.stderr.flush()
        self.drawn = True

    def finish(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()


def cmd_report(args, svc) -> int:
    from eim_tui.output import report_tables
    from eim_tui.services.reports import Reports, parse_day

    if args.by not in GROUPINGS:
        raise UsageError(f"unknown --by {args.by!r}; use one of {', '.join(GROUPINGS)}")
    start = parse_day(args.start, "--from") if args.start else None
    end = parse_day(args.end, "--to") if args.end else None
    reports = Reports(svc.db, svc.clock)
    fmt = "csv" if args.csv else "md" if args.md else "text"
    if args.process:
        data = reports.process_report(start, end)
        text = None if args.json else report_tables.process_table(data, fmt)
    else:
        data = reports.report(start, end, args.by)
        text = None if args.json else report_tables.report_table(data, fmt)
    if text is None:
        emit_json(data)
    else:
        sys.stdout.write(text)
    return 0
