"""The comparison for `datatable_first_paint_s`: Textual's stock DataTable holding the queue's rows.

    python -m tests.bench.datatable_app --db sqlite:///…/demo.db

Reads the same store as the queue and the rows the queue shows at start (the open incidents, in
its columns and order; not the closed ones, which it never lists), and loads every one of them into
a `DataTable` before its first frame — the way a table without virtualisation has to.
"""

from __future__ import annotations

import argparse

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from eim_tui.bootstrap import open_services
from eim_tui.domain.filters import Filter
from eim_tui.domain.queue import View
from eim_tui.tui.render.queue_columns import age_text, owner_text, severity_text, sla_cell, state_text


class DataTableQueue(App[None]):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row")

    def on_mount(self) -> None:
        svc = open_services(self.url)
        now = svc.clock.now()
        # The open incidents, as the queue's first screen lists and orders them.
        numbers = svc.queue(View.OPEN, Filter(), "alice", svc.user_groups("alice"))
        rows = {row.number: row for row in svc.rows(numbers)}
        table = self.query_one(DataTable)
        table.add_columns("Key", "Sev", "State", "Title", "Service", "Group/Assignee", "SLA", "Age")
        table.add_rows(
            (row.key, severity_text(row), state_text(row), row.title, row.service, owner_text(row),
             sla_cell(row, now, 14)[0], age_text(row, now))
            for row in (rows[n] for n in numbers)
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    DataTableQueue(parser.parse_args().db).run()
