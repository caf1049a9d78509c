"""The reports as text, Markdown or CSV tables: the same rendering for `eim report` and the TUI's
reports screen (its export), from the stable JSON shapes of services/reports.py."""

from __future__ import annotations

import csv
import io

FORMATS = ("text", "md", "csv")

_COLUMNS = ("key", "opened", "resolved", "closed", "backlog", "MTTA h med", "MTTA h p90", "MTTR h mean",
            "MTTR h med", "MTTR h p90", "resp SLA %", "resol SLA %", "source SLA %", "reopen %", "reassign",
            ">2 reassign %", "hold h", "FCR %", "rating")


def _cells(group: dict) -> list[str]:
    def f(value, digits: int = 1) -> str:
        if value is None:
            return "—"
        return f"{value:.{digits}f}" if isinstance(value, float) else str(value)

    sla = group["sla"]
    return [str(group["key"]), str(group["opened"]), str(group["resolved"]), str(group["closed"]),
            str(group["backlog"]), f(group["mtta_hours"]["median"]), f(group["mtta_hours"]["p90"]),
            f(group["mttr_hours"]["mean"]), f(group["mttr_hours"]["median"]), f(group["mttr_hours"]["p90"]),
            f(sla["response_met_pct"]), f(sla["resolution_met_pct"]), f(sla["source_met_pct"]),
            f(group["reopen_pct"]), f(group["reassigned_mean"], 2), f(group["reassigned_over_2_pct"]),
            f(group["on_hold_hours_mean"]), f(group["fcr_pct"]), f(group["rating_mean"], 2)]


def report_table(data: dict, fmt: str) -> str:
    head = f"{data['from'] or '—'} … {data['to']}, by {data['by']}"
    rows = [_cells(g) for g in data["groups"]] + [_cells(data["total"])]
    return _table(head, list(_COLUMNS), rows, fmt)


def process_table(data: dict, fmt: str) -> str:
    head = f"where incidents wait, {data['from'] or '—'} … {data['to']}"
    rows = [[s["state"], str(s["incidents"]), str(s["visits"]), _num(s["median_hours"]), _num(s["p90_hours"])]
            for s in data["states"]]
    text = _table(head, ["state", "incidents", "left", "median h", "p90 h"], rows, fmt)
    moves = [[t["from"], t["to"], str(t["count"])] for t in data["transitions"]]
    return text + ("\n" if fmt != "csv" else "") + _table("transitions", ["from", "to", "count"], moves, fmt)


def _num(value) -> str:
    return "—" if value is None else f"{value:.1f}"


def _table(title: str, header: list[str], rows: list[list[str]], fmt: str) -> str:
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return out.getvalue()
    if fmt == "md":
        lines = [f"**{title}**", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    # Figures line up on the right, names on the left.
    right = [i > 0 and all(_numeric(r[i]) for r in rows) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)).rstrip()

    return "\n".join([title, line(header), *(line(row) for row in rows)]) + "\n"


def _numeric(cell: str) -> bool:
    return cell == "—" or cell.replace(".", "", 1).replace("-", "", 1).isdigit()
