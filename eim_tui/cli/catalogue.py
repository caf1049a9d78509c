"""`eim services|cis|categories|sla|routing|catalog …`: the organisation's catalogue, kept in the store.

    eim services list|show|add|set|retire      eim cis list|show|add|set|retire|import
    eim categories list|add|set                eim sla list|set
    eim routing list|add|remove|test           eim catalog export|apply FILE [--dry-run]
    eim escalation list|show NAME

Changes are for admins, one transaction each, recorded in the catalogue's hash-chained history
(`eim audit verify` checks it). `eim groups …` lives in cli/groups.py. `--json` on every list/show.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from eim_tui.cli.catalogue_io import (
    add_entity_parsers,
    read_cis_file,
    read_text,
    show_plan,
)
from eim_tui.cli.errors import UsageError, emit_json


def add_parsers(sub, common, db_only) -> None:
    add_entity_parsers(sub, common)


# --- services --------------------------------------------------------------------------------------


def cmd_services(args, svc) -> int:
    from eim_tui.services.catalogue import require

    cat = svc.catalogue
    verb = args.services_command
    if verb == "list":
        found = cat.services(include_retired=args.all)
        counts, _ = cat.open_counts()
        rows = [{**s, "open_incidents": counts.get(s["name"], 0)} for s in found]
        if args.json:
            emit_json(rows)
        else:
            _table(rows, [("name", "SERVICE"), ("owner_group", "OWNER"), ("open_incidents", "OPEN"),
                          ("retired", "RETIRED"), ("description", "DESCRIPTION")])
        return 0
    if verb == "show":
        known = [s["name"] for s in cat.services()]
        service = require(cat.service(args.name), "service", args.name, known)
        shown = {**service, "cis": [c["name"] for c in cat.cis(service=args.name)],
                 "sla": [t for t in cat.sla(args.name) if t["service"] == args.name],
                 "open_incidents": [_incident(r) for r in cat.open_incidents(service=args.name)],
                 "history": cat.history("service", args.name)}
        return _show(shown, args.json)
    fields = {k: v.strip() for k, v in (("description", getattr(args, "description", None)),
                                        ("owner_group", getattr(args, "owner_group", None))) if v is not None}
    if verb == "add":
        def added(before):
            if before is not None and not before["retired"]:
                raise UsageError(f"service {args.name!r} exists already; change it with eim services set {args.name} …")
            base = before or {"name": _name(args.name), "description": "", "owner_group": ""}
            return {**base, **fields, "retired": False}
        return _done(cat.edit(args.user, "service", args.name, added))
    if verb == "set":
        if not fields and not args.restore:
            raise UsageError("nothing to change; give --description, --owner-group and/or --restore")

        def changed(before):
            require(before, "service", args.name, [s["name"] for s in cat.services()])
            return {**before, **fields, "retired": False if args.restore else before["retired"]}
        return _done(cat.edit(args.user, "service", args.name, changed))
    return _done(cat.retire(args.user, "service", args.name))  # with its CIs; incidents keep naming them


# --- configuration items ---------------------------------------------------------------------------


def cmd_cis(args, svc) -> int:
    from eim_tui.services.catalogue import require

    cat = svc.catalogue
    verb = args.cis_command
    if verb == "list":
        found = cat.cis(service=args.service, include_retired=args.all, prefix=args.prefix)
        if args.json:
            emit_json(found)
        else:
            _table(found, [("name", "CI"), ("service", "SERVICE"), ("kind", "KIND"), ("owner_group", "OWNER"),
                           ("retired", "RETIRED")])
        return 0
    if verb == "show":
        ci = require(cat.ci(args.name), "ci", args.name, [c["name"] for c in cat.cis()])
        shown = {**ci, "open_incidents": [_incident(r) for r in cat.open_incidents(ci=args.name)],
                 "history": cat.history("ci", args.name)}
        return _show(shown, args.json)
    if verb == "import":
        rows = read_cis_file(Path(args.file), Path(args.map), {s.name for s in svc.ref.services})
        plan = cat.import_cis(args.user, rows, Path(args.file).name)
        return _done(plan)
    if verb == "retire":
        return _done(cat.retire(args.user, "ci", args.name))
    fields: dict[str, Any] = {k: v.strip() for k, v in (("service", args.service), ("kind", args.kind),
                                                        ("owner_group", args.owner_group)) if v is not None}
    attributes = _attributes(args)
    if verb == "add":
        if "service" not in fields:
            raise UsageError(f"a CI needs its service: eim cis add {args.name} --service SERVICE")

        def added(before):
            if before is not None and not before["retired"]:
                raise UsageError(f"CI {args.name!r} exists already; change it with eim cis set {args.name} …")
            base = before or {"name": _name(args.name), "service": "", "kind": "", "owner_group": "", "attributes": {}}
            return {**base, **fields, "attributes": attributes if attributes is not None else base["attributes"],
                    "retired": False}
        return _done(cat.edit(args.user, "ci", args.name, added))
    if not fields and attributes is None and not args.restore:
        raise UsageError("nothing to change; give --service, --kind, --owner-group, --attributes/--attr "
                         "and/or --restore")

    def changed(before):
        require(before, "ci", args.name, [c["name"] for c in cat.cis()])
        merged = before["attributes"] if attributes is None else (
            attributes if args.attributes is not None else {**before["attributes"], **attributes})
        return {**before, **fields, "attributes": merged, "retired": False if args.restore else before["retired"]}
    return _done(cat.edit(args.user, "ci", args.name, changed))


def _attributes(args) -> dict[str, Any] | None:
    found: dict[str, Any] | None = None
    if args.attributes is not None:
        try:
            found = json.loads(args.attributes)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--attributes is not JSON ({exc.msg}); write it like '{{\"os\": \"debian\"}}'") from None
        if not isinstance(found, dict):
            raise UsageError("--attributes must be a JSON object, like '{\"os\": \"debian\"}'")
    for pair in args.attr or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--attr {pair!r}: write it as KEY=VALUE")
        found = {**(found or {}), key.strip(): value.strip()}
    return found


# --- categories, SLA, routing, the catalogue file ------------------------------------------------


def cmd_categories(args, svc) -> int:
    from eim_tui.services.catalogue import require

    cat = svc.catalogue
    verb = args.categories_command
    if verb == "list":
        found = cat.categories()
        if args.json:
            emit_json(found)
        else:
            for c in found:
                print(f"{c['name']}{'  (confidential: the security group only)' if c['confidential'] else ''}")
                for sub in c["subcategories"]:
                    print(f"  {sub}")
        return 0
    if verb == "add":
        def added(before):
            if before is not None:
                raise UsageError(f"category {args.name!r} exists already; change it with eim categories set {args.name} …")
            return {"name": _name(args.name), "confidential": args.confidential, "subcategories": sorted(set(args.sub or []))}
        return _done(cat.edit(args.user, "category", args.name, added))
    confidential = None if args.confidential is None else args.confidential == "yes"
    if confidential is None and not args.add_sub and not args.remove_sub:
        raise UsageError("nothing to change; give --confidential yes|no, --add-sub S and/or --remove-sub S")

    def changed(before):
        before = require(before, "category", args.name, [c["name"] for c in cat.categories()])
        missing = sorted(set(args.remove_sub or []) - set(before["subcategories"]))
        if missing:
            raise UsageError(f"{args.name} has no subcategory {missing[0]!r}; it has: {', '.join(before['subcategories'])}")
        subs = (set(before["subcategories"]) | set(args.add_sub or [])) - set(args.remove_sub or [])
        return {**before, "confidential": before["confidential"] if confidential is None else confidential,
                "subcategories": sorted(subs)}
    return _done(cat.edit(args.user, "category", args.name, changed))


def cmd_sla(args, svc) -> int:
    from eim_tui.reference.catalogue import sla_key
    from eim_tui.reference.catalogue_file import parse_target, seconds_text
    from eim_tui.services.catalogue import require

    cat = svc.catalogue
    if args.sla_command == "list":
        if args.service:
            require(cat.service(args.service), "service", args.service, [s["name"] for s in cat.services()])
        found = cat.sla(args.service)
        if args.json:
            emit_json(found)
        else:
            rows = [{**t, "service": t["service"] or "(every service)", "response": seconds_text(t["response"]),
                     "resolution": seconds_text(t["resolution"])} for t in found]
            _table(rows, [("service", "SERVICE"), ("severity", "SEV"), ("response", "RESPONSE"),
                          ("resolution", "RESOLUTION")])
        return 0
    service = args.service or ""
    if args.clear:
        if not service:
            raise UsageError("--clear removes a service's own targets; name it with --service")
        plan = cat.edit(args.user, "sla", sla_key(args.severity, service), lambda before: None)
        if not plan.changes:
            raise UsageError(f"{service} has no own Sev{args.severity} targets; eim sla list --service {service}")
        return _done(plan)
    if args.response is None and args.resolution is None:
        raise UsageError("nothing to change; give --response and/or --resolution (like 15m, 4h), or --clear")
    response = None if args.response is None else parse_target(args.response)
    resolution = None if args.resolution is None else parse_target(args.resolution)

    def changed(before):
        if service and cat.service(service) is None:
            require(None, "service", service, [s["name"] for s in cat.services()])
        base = before or next(t for t in cat.sla() if not t["service"] and t["severity"] == args.severity)
        return {"severity": args.severity, "service": service,
                "response": base["response"] if response is None else response,
                "resolution": base["resolution"] if resolution is None else resolution}
    return _done(cat.edit(args.user, "sla", sla_key(args.severity, service), changed))


def cmd_escalation(args, svc) -> int:
    from eim_tui.reference.catalogue_file import seconds_text
    from eim_tui.services.catalogue import require

    cat = svc.catalogue
    rules = cat.escalation()
    if args.escalation_command == "show":
        rule = require(next((r for r in rules if r["name"] == args.name), None), "escalation", args.name,
                       [r["name"] for r in rules])
        history = cat.history("escalation", args.name)
        if args.json:
            emit_json({**rule, "history": history})
            return 0
        for key in ("name", "position", "when", "severities", "after", "notify", "reach", "mark_escalated",
                    "raise_severity", "reason"):
            value = rule[key]
            shown = (seconds_text(value) if value else "0s") if key == "after" else (
                ", ".join(map(str, value)) or "-" if isinstance(value, list) else value)
            print(f"  {key:<15} {shown}")
        for event in history:
            print(f"  {event['at'][:16]}  {event['kind']} by {event['actor']}")
        return 0
    if args.json:
        emit_json(rules)
        return 0
    if not rules:
        print("no escalation rules: nothing escalates (add [[escalation]] tables with eim catalog apply)")
    for r in rules:
        after = seconds_text(r["after"]) if r["after"] else "at once"
        whom = ", ".join([*r["notify"], *r["reach"]]) or "nobody"
        acts = [a for a, on in (("marks escalated", r["mark_escalated"]), ("raises severity", r["raise_severity"])) if on]
        sevs = ",".join(map(str, r["severities"]))
        print(f"{r['position']:>3}. {r['name']}: Sev{sevs} {r['when'].replace('_', ' ')}, {after} → {whom}"
              + (f"; {', '.join(acts)}" if acts else ""))
    return 0


def cmd_routing(args, svc) -> int:
    from eim_tui.services.catalogue import require

    cat = svc.catalogue
    verb = args.routing_command
    if verb == "list":
        found = cat.routing()
        if args.json:
            emit_json(found)
        else:
            for r in found:
                when = ", ".join([*(repr(k) for k in r["keywords"]), *(f"service {s}" for s in r["services"])])
                print(f"{r['position']:>3}. {r['name']}: {when} → {r['category']}/{r['subcategory']}, {r['group']}")
        return 0
    if verb == "test":
        return _route(args, svc)
    if verb == "remove":
        return _done(cat.edit(args.user, "routing", args.name,
                              lambda before: require(before, "routing", args.name, [r["name"] for r in cat.routing()])
                              and None))
    if not args.keyword and not args.service:
        raise UsageError("give --keyword and/or --service, or the rule never matches")

    def added(before):
        if before is not None:
            raise UsageError(f"routing rule {args.name!r} exists already; remove it first (eim routing remove {args.name})")
        return {"name": _name(args.name), "position": 0, "keywords": args.keyword or [], "services": args.service or [],
                "category": args.category, "subcategory": args.subcategory, "group": args.group, "reason": args.reason}

    def placed(current, rule):
        # Put the rule at --position (1 = tried first; default last) and renumber the others after it.
        ordered = sorted(current.of("routing").values(), key=lambda r: r["position"])
        at = len(ordered) if args.position is None else max(0, min(args.position - 1, len(ordered)))
        ordered.insert(at, rule)
        return {"routing": {r["name"]: {**r, "position": n} for n, r in enumerate(ordered, 1)}}
    return _done(cat.edit(args.user, "routing", args.name, added, also=placed))


def _route(args, svc) -> int:
    text = " ".join(args.text)
    labels = dict(pair.partition("=")[::2] for pair in args.label or [])
    result: dict[str, Any] = {}
    rule, why = svc.catalogue.route(text, args.service or "")
    result["keyword_rule"] = None if rule is None else {
        "name": rule.name, "category": rule.category, "subcategory": rule.subcategory, "group": rule.group,
        "reason": rule.reason, "why": why}
    if labels:
        from eim_tui.domain.alerts import Alert, AlertStatus
        from eim_tui.ingest.routing import load_alert_routing

        alert = Alert("alertmanager", "test", AlertStatus.FIRING, labels.get("alertname", text or "test"),
                      summary=text, severity=labels.get("severity", ""), labels=labels)
        routing = load_alert_routing(svc.ref)
        picked = routing.rule_for(alert)
        routed = routing.route(alert)
        result["alert_rule"] = {"name": picked.name, "service": routed.service, "category": routed.category,
                                "group": routed.assignment_group, "why": "matches the labels" if picked.name != "default"
                                else "no alert rule matches: the [default] of alert_routing.toml"}
    if args.json:
        emit_json(result)
        return 0
    if rule is None:
        print(f"no routing rule: {why}")
    else:
        print(f"rule {rule.name}: {rule.category}/{rule.subcategory} → {rule.group} ({why})")
    if "alert_rule" in result:
        a = result["alert_rule"]
        print(f"alert rule {a['name']}: service {a['service'] or '-'}, {a['category'] or '-'} → {a['group'] or '-'} ({a['why']})")
    return 0


def cmd_catalog(args, svc) -> int:
    if args.catalog_command == "export":
        sys.stdout.write(svc.catalogue.export())
        return 0
    path = Path(args.file)
    text = read_text(path)
    # The diff is printed once checked, before it is written (in the same transaction).
    plan = svc.catalogue.apply_file(args.user, text, path.name, dry_run=args.dry_run, before_writing=show_plan)
    if plan.changes:
        print("dry run: nothing applied" if args.dry_run else f"applied: {plan.summary()}")
    return 0


# --- output ----------------------------------------------------------------------------------------


def _done(plan) -> int:
    show_plan(plan)
    return 0


def _name(text: str) -> str:
    name = text.strip()
    if not name or any(ch.isspace() for ch in name) or len(name) > 100:
        raise UsageError(f"{text!r} is not a usable name; use letters, digits, - . _ (no spaces, up to 100)")
    return name


def _incident(row: tuple) -> dict[str, Any]:
    from eim_tui.domain.model import format_key

    number, title, priority, state, service, ci = row
    return {"key": format_key(number), "title": title, "severity": priority, "state": state, "service": service,
            "ci": ci}


def _show(entity: dict[str, Any], as_json: bool) -> int:
    if as_json:
        emit_json(entity)
        return 0
    for key, value in entity.items():
        if key in ("open_incidents", "history"):
            continue
        if isinstance(value, list):
            value = ", ".join(map(str, (v if not isinstance(v, dict) else _sla_text(v) for v in value))) or "-"
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, dict):
            value = json.dumps(value, ensure_ascii=False) if value else "-"
        print(f"  {key.replace('_', ' '):<14}{value if value not in ('', None) else '-'}")
    incidents = entity.get("open_incidents", [])
    print(f"  {'open':<14}{len(incidents)} incident(s)")
    for i in incidents[:20]:
        print(f"    {i['key']}  Sev{i['severity']}  {i['state']:<12} {i['title']}")
    history = entity.get("history", [])
    if history:
        print("  history")
        for h in history[-10:]:
            print(f"    {h['at'][:16].replace('T', ' ')}  {h['kind']:<8} by {h['actor']}")
    return 0


def _sla_text(target: dict[str, Any]) -> str:
    from eim_tui.reference.catalogue_file import seconds_text

    return f"Sev{target['severity']} {seconds_text(target['response'])}/{seconds_text(target['resolution'])}"


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
    if not rows:
        print("(none)")
        return
    cells = [[("yes" if r[k] is True else "" if r[k] is False else str(r[k])) for k, _ in columns] for r in rows]
    widths = [max(len(h), *(len(c[n]) for c in cells)) for n, (_, h) in enumerate(columns)]
    print("  ".join(h.ljust(w) for (_, h), w in zip(columns, widths)).rstrip())
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths)).rstrip())
