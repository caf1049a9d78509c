"""Catalogue benchmark (issue 10): `eim catalog apply` of 2,000 services and 50,000 CIs, and the
new-incident form's completion at 50,000 CIs.

Prints one JSON line per figure ({"metric", "value", "unit"}):
- catalog_apply_s: applying a catalog.toml of 2,000 services + 50,000 CIs (with the seed's groups,
  categories, SLA targets and routing rules) to a new store: read, checked, diffed, written with
  one hash-chained history event per change, in one transaction (target ≤ 20 s);
- catalog_insert_floor_s: the floor, measured in the same run — a bare executemany INSERT of the
  same 52,000 service and CI rows into another new store, nothing else;
- catalog_apply_again_s: applying the same file again (idempotent: no changes, nothing written);
- catalog_dry_run_s: `--dry-run` of a file that changes 1,000 CIs;
- catalog_reference_load_ms: a process re-reading the catalogue after a change (svc.ref at 50,000 CIs);
- completion_key_us / completion_key_max_ms: the form's CI completion per key (median and max over
  typing 500 names key by key), at 50,000 CIs (target ≤ 20 ms);
- completion_key_scan_ms: the same keys with Textual's SuggestFromList (a scan per key), for comparison;
- completion_service_key_ms: a key in the Service field (the CI completion follows the service).

Run as `python -m tests.bench.bench_catalogue [--services N] [--cis N] [--db URL]` (default: a
temporary SQLite store; give a PostgreSQL URL of an empty database to measure there).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path


def emit(metric: str, value: float, unit: str) -> None:
    print(json.dumps({"metric": metric, "value": round(value, 2), "unit": unit}), flush=True)


def catalogue_file(base: str, services: int, cis: int, seed: int = 7) -> tuple[str, list[dict], list[dict]]:
    """The seed's catalogue plus `services` services and `cis` CIs (spread evenly over them)."""
    rng = random.Random(seed)
    groups = ["app-support", "dba", "network-ops", "platform", "end-user-computing"]
    kinds = ["server", "database", "load balancer", "vm", "switch"]
    service_rows = [{"name": f"svc-{n:04d}", "description": f"Business service {n}", "owner_group": rng.choice(groups)}
                    for n in range(services)]
    ci_rows = [{"name": f"ci-{n:06d}.dc{n % 3}.internal", "service": service_rows[n % services]["name"],
                "kind": rng.choice(kinds), "owner_group": rng.choice(groups),
                "attributes": {"os": rng.choice(["debian", "rhel", "windows"]), "rack": f"r{n % 40}"}}
               for n in range(cis)]
    out = [base]
    for s in service_rows:
        out.append(f'[[service]]\nname = "{s["name"]}"\ndescription = "{s["description"]}"\n'
                   f'owner_group = "{s["owner_group"]}"\n')
    for c in ci_rows:
        out.append(f'[[ci]]\nname = "{c["name"]}"\nservice = "{c["service"]}"\nkind = "{c["kind"]}"\n'
                   f'owner_group = "{c["owner_group"]}"\n'
                   f'attributes = {{ "os" = "{c["attributes"]["os"]}", "rack" = "{c["attributes"]["rack"]}" }}\n')
    return "\n".join(out), service_rows, ci_rows


def store(url: str | None, directory: Path, name: str):
    from eim_tui.bootstrap import open_services

    return open_services(url or f"sqlite:///{directory / name}.db")


def insert_floor(svc, service_rows: list[dict], ci_rows: list[dict]) -> float:
    from sqlalchemy import insert

    from eim_tui.store.tables import ConfigurationItemRow, ServiceRow

    start = time.perf_counter()
    with svc.db.write() as session:
        session.execute(insert(ServiceRow.__table__), service_rows)
        session.execute(insert(ConfigurationItemRow.__table__), ci_rows)
    return time.perf_counter() - start


def completion(svc, samples: int = 500) -> None:
    from textual.suggester import SuggestFromList

    from eim_tui.tui import intake_form as intake
    from eim_tui.tui.dialogs.new_incident import PrefixSuggester

    ref = svc.ref
    names = intake.item_names(ref, "")
    suggester = PrefixSuggester(names)
    scan = SuggestFromList(names, case_sensitive=False)
    rng = random.Random(3)
    typed = [name for name in rng.sample(names, samples)]

    async def per_key(s) -> list[float]:
        found = []
        for name in typed:
            for end in range(1, len(name) + 1):
                value = name[:end].casefold()
                start = time.perf_counter()
                await s.get_suggestion(value)
                found.append((time.perf_counter() - start) * 1000)
        return found

    keys = asyncio.run(per_key(suggester))
    emit("completion_key_us", statistics.median(keys) * 1000, "us")
    emit("completion_key_max_ms", max(keys), "ms")
    slow = asyncio.run(per_key_subset(scan, typed[:20]))
    emit("completion_key_scan_ms", statistics.median(slow), "ms")
    service_keys = []
    for service in rng.sample([s.name for s in ref.services], 200):
        for end in range(1, len(service) + 1):
            start = time.perf_counter()
            known = ref.service(service[:end])  # what field_changed does for each key in Service
            PrefixSuggester(known.configuration_items) if known is not None else None
            service_keys.append((time.perf_counter() - start) * 1000)
    emit("completion_service_key_ms", max(service_keys), "ms")


async def per_key_subset(s, typed: list[str]) -> list[float]:
    found = []
    for name in typed:
        for end in range(1, len(name) + 1):
            start = time.perf_counter()
            await s.get_suggestion(name[:end].casefold())
            found.append((time.perf_counter() - start) * 1000)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_catalogue")
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--cis", type=int, default=50000)
    parser.add_argument("--db", default=None, help="an empty store URL (default: temporary SQLite files)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="eim-bench-catalogue-") as tmp:
        directory = Path(tmp)
        svc = store(args.db, directory, "apply")
        seeded = len(svc.catalogue.cis())
        text, service_rows, ci_rows = catalogue_file(svc.catalogue.export(), args.services, args.cis)
        start = time.perf_counter()
        plan = svc.catalogue.apply_file("admin", text)
        emit("catalog_apply_s", time.perf_counter() - start, "s")
        assert plan.counts()["added"] == args.services + args.cis, plan.summary()

        start = time.perf_counter()
        again = svc.catalogue.apply_file("admin", text)
        emit("catalog_apply_again_s", time.perf_counter() - start, "s")
        assert not again.changes, again.summary()

        changed = text.replace('kind = "vm"', 'kind = "virtual machine"', 1000)
        start = time.perf_counter()
        dry = svc.catalogue.apply_file("admin", changed, dry_run=True)
        emit("catalog_dry_run_s", time.perf_counter() - start, "s")
        assert dry.counts()["changed"] == 1000, dry.summary()

        start = time.perf_counter()
        svc.catalogue.forget()  # what every process does when the catalogue's marker moved
        assert len(svc.ref.item_names) == args.cis + seeded
        emit("catalog_reference_load_ms", (time.perf_counter() - start) * 1000, "ms")
        completion(svc)
        svc.close_store()
        if args.db is None:
            floor = store(None, directory, "floor")
            emit("catalog_insert_floor_s", insert_floor(floor, service_rows, ci_rows), "s")
            floor.close_store()
    return 0


if __name__ == "__main__":
    sys.exit(main())
