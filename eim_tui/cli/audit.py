"""`eim audit …`: the timeline as a record that can be checked anywhere (issue 13).

    eim audit verify [--anchor FILE] [--file chain.jsonl]
    eim audit anchor [--out FILE]
    eim audit export [--since WHEN] > chain.jsonl

`verify` walks the store's chain (exit 1 when broken); with `--anchor` it also proves the chain
still passes through every head recorded in FILE; with `--file` it verifies an exported chain and
opens no database at all. `anchor` prints the chain head (and appends it to FILE): keep it where
the store's writers cannot rewrite it. `export` writes every event with its hashes, one JSON a line.
"""

from __future__ import annotations

import sys

from eim_tui.cli.errors import Parser, UsageError
from eim_tui.config import read_regular_text


def add_parsers(sub, common, db_only) -> None:
    audit = sub.add_parser("audit", parents=[common], help="verify, anchor and export the timeline's hash chain")
    verbs = audit.add_subparsers(dest="audit_command", metavar="verify|anchor|export", required=True,
                                 parser_class=Parser)
    verify = verbs.add_parser("verify", parents=[common], help="check the timeline's hash chain")
    verify.add_argument("--anchor", metavar="FILE", default=None,
                        help="also prove the chain passes through every head recorded in FILE")
    verify.add_argument("--file", metavar="JSONL", default=None,
                        help="verify an exported chain (eim audit export) without any database")
    anchor = verbs.add_parser("anchor", parents=[common], help="print the chain head to keep outside the store")
    anchor.add_argument("--out", metavar="FILE", default=None, help="also append it to FILE")
    export = verbs.add_parser("export", parents=[common], help="write the timeline with its hashes as JSON lines")
    export.add_argument("--since", metavar="WHEN", default=None, help="from this time on: 2026-12-01, 10m ago, 14:05")


def cmd_audit(args, _svc) -> int:
    if args.audit_command == "verify" and args.file:
        return verify_file(args)  # offline: no store is opened (an auditor may have none)
    from eim_tui.cli.context import open_store

    svc = open_store(args)
    try:
        return _with_store(args, svc)
    finally:
        svc.db.dispose()


cmd_audit.needs_store = False  # type: ignore[attr-defined]  # it opens one itself unless --file


def _with_store(args, svc) -> int:
    from eim_tui.services import audit_trail

    verb = args.audit_command
    if verb == "anchor":
        anchor = audit_trail.take_anchor(svc.db, svc.clock.now())
        line = anchor.line()
        if args.out:
            try:
                with open(args.out, "a", encoding="utf-8") as out:
                    out.write(line + "\n")
            except OSError as exc:
                raise UsageError(f"cannot append to {args.out}: {exc.strerror or exc}") from None
        print(line)
        return 0
    if verb == "export":
        since = None
        if args.since:
            from eim_tui.domain.intake import parse_when

            since = parse_when(args.since, svc.clock.now())
        for line in audit_trail.export_lines(svc.db, since):
            sys.stdout.write(line + "\n")
        return 0
    anchors = audit_trail.read_anchors(_lines(args.anchor), args.anchor) if args.anchor else []
    if anchors:
        verdict = audit_trail.verify_anchors(svc.db, anchors)
        print(verdict.message)
        return 0 if verdict.ok else 1
    linked = audit_trail.verify_links(svc.db)  # PostgreSQL outside the security group: links of hidden events
    report = svc.verify_chain() if linked is None else None
    print(report.describe() if report is not None else linked.message)
    timeline_ok = report.intact if report is not None else linked.ok
    intact, events, problem = svc.catalogue.verify()  # the catalogue's own chain (issue 10)
    print(f"catalogue history intact: {events} events, every link verified" if intact
          else f"catalogue history BROKEN: {problem}")
    from eim_tui.services.problems import ProblemCases

    problems = ProblemCases(svc).verify()  # the problems' own chain (issue 11)
    print(problems.describe().replace("timeline", "problem timeline", 1))
    return 0 if timeline_ok and intact and problems.intact else 1


def _lines(path: str) -> list[str]:
    try:
        return read_regular_text(path).splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {getattr(exc, 'strerror', None) or 'not UTF-8 text'}") from None


def verify_file(args) -> int:
    from eim_tui.services import audit_trail

    anchors = audit_trail.read_anchors(_lines(args.anchor), args.anchor) if args.anchor else []
    verdict = audit_trail.verify_lines(_lines(args.file), args.file, anchors)
    print(verdict.message)
    return 0 if verdict.ok else 1
