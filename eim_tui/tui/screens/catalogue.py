"""The catalogue screen (`K` on the queue, "Catalogue" in the palette; `i` on an incident): the
organisation's services with their configuration items, open incidents and changes.

Three lists: the active services (owner, CIs, open incidents), the highlighted service's CIs, and
the open incidents of the highlighted service — or of the highlighted CI once the CI list has the
focus — with, under them, that service's latest changes (or the CI's changes of the last 24 hours
and those in progress). `enter` on an incident opens it. Opened for a CI (from an incident), it starts on that CI:
its service highlighted and the CI's other open incidents listed. Store reads run in workers that
end in a message; the lists only show what the messages bring.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from eim_tui.domain.model import format_key
from eim_tui.services.changes import ChangeCases
from eim_tui.tui.render.theme_styles import PALETTE_CLASSES, palette
from eim_tui.tui.widgets.key_footer import KeyFooter
from eim_tui.tui.workers import ReportsWorkers, explain


@dataclass
class CatalogueLoaded(Message):
    services: list[dict[str, Any]] | None  # each with "cis" (active names) and "open" (count)
    ci_open: dict[str, int] = field(default_factory=dict)
    error: str = ""


@dataclass
class IncidentsLoaded(Message):
    what: str  # "service payments" or "CI db01.pay.internal"
    rows: list[tuple] | None  # (number, title, severity, state, service, CI)
    error: str = ""
    changes: list[Any] = field(default_factory=list)  # the service's or the CI's changes, latest first


CHANGES_SHOWN = 6


def _columns(table: DataTable, columns: list[tuple[str, list[str]]], widest: int = 60) -> None:
    """Empty `table` and give it columns as wide as their widest value (up to `widest`)."""
    table.clear(columns=True)
    for label, values in columns:
        table.add_column(label, width=min(widest, max([len(label), *(len(v or "") for v in values)])))


class CatalogueScreen(ReportsWorkers, Screen[None]):
    COMPONENT_CLASSES = PALETTE_CLASSES
    BINDINGS = [
        Binding("escape", "back", "Back", id="catalogue.back", tooltip="Back to where you were"),
        Binding("enter", "open", "Open", id="catalogue.open",
                tooltip="Open the highlighted incident; on a service or CI, list its open incidents"),
        Binding("r", "reload", "Reload", id="catalogue.reload", tooltip="Read the catalogue again"),
    ]

    def __init__(self, ci: str = "", service: str = "") -> None:
        super().__init__()
        self.start_ci, self.start_service = ci, service
        self.services: list[dict[str, Any]] = []
        self.ci_open: dict[str, int] = {}
        self.incidents: list[tuple] = []
        self._shown_service = ""

    def compose(self) -> ComposeResult:
        yield Static(Content("Catalogue · loading…"), id="catalogue-title")
        yield DataTable(id="catalogue-services", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="catalogue-cis", cursor_type="row", zebra_stripes=True)
        yield Static(Content(""), id="catalogue-incidents-title")
        yield DataTable(id="catalogue-incidents", cursor_type="row", zebra_stripes=True)
        yield Static(Content(""), id="catalogue-changes")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#catalogue-services", DataTable).focus()
        self.load()

    # --- reading ---------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="catalogue-load", exit_on_error=False, description="load the catalogue")
    def load(self) -> None:
        svc = self.app.services
        try:
            ref = svc.ref
            by_service, by_ci = svc.catalogue.open_counts()
            services = [{"name": s.name, "owner": s.owner_group, "description": s.description,
                         "cis": list(s.configuration_items), "open": by_service.get(s.name, 0)} for s in ref.services]
        except Exception as exc:  # the title says why the lists are empty
            self.post_message(CatalogueLoaded(None, error=explain(exc)))
            return
        self.post_message(CatalogueLoaded(services, by_ci))

    @work(thread=True, exclusive=True, group="catalogue-incidents", exit_on_error=False,
          description="load the open incidents")
    def load_incidents(self, service: str | None = None, ci: str | None = None) -> None:
        what = f"CI {ci}" if ci is not None else f"service {service}"
        try:
            rows = self.app.services.catalogue.open_incidents(service=service, ci=ci)
            cases = ChangeCases(self.app.services)
            # A service: its latest changes, planned ones included; a CI: what ran on it in the last
            # 24 hours or runs now (the same "recent changes" the incident screen shows).
            changes = cases.recent_on("", ci) if ci is not None else cases.list(service=service or "", limit=CHANGES_SHOWN)
        except Exception as exc:
            self.post_message(IncidentsLoaded(what, None, explain(exc)))
            return
        self.post_message(IncidentsLoaded(what, rows, changes=changes))

    def on_catalogue_loaded(self, message: CatalogueLoaded) -> None:
        title = self.query_one("#catalogue-title", Static)
        if message.services is None:
            title.update(Content(f"Catalogue · {message.error}"))
            return
        self.services, self.ci_open = message.services, message.ci_open
        title.update(Content.assemble(("Catalogue", "bold"),
                                      f" · {len(self.services)} services · "
                                      f"{sum(len(s['cis']) for s in self.services):,} CIs · "
                                      "tab: services → CIs → incidents"))
        table = self.query_one("#catalogue-services", DataTable)
        _columns(table, [("Service", [s["name"] for s in self.services]), ("Owner", [s["owner"] for s in self.services]),
                         ("CIs", ["9999"]), ("Open", ["9999"]), ("Description", [s["description"] for s in self.services])])
        for s in self.services:
            table.add_row(Content.styled(s["name"], "bold"), s["owner"] or "-", str(len(s["cis"])), str(s["open"]),
                          Content(s["description"]), key=s["name"])
        start = self.start_service or next((s["name"] for s in self.services if self.start_ci in s["cis"]), "")
        if start and start in [s["name"] for s in self.services]:
            table.move_cursor(row=[s["name"] for s in self.services].index(start))
        self._show_service(self._highlighted_service())
        if self.start_ci:
            cis = self.query_one("#catalogue-cis", DataTable)
            names = self._ci_names()
            if self.start_ci in names:
                cis.move_cursor(row=names.index(self.start_ci))
                cis.focus()
            self.load_incidents(ci=self.start_ci)
            self.start_ci = ""

    def on_incidents_loaded(self, message: IncidentsLoaded) -> None:
        heading = self.query_one("#catalogue-incidents-title", Static)
        p = palette(self)
        if message.rows is None:
            heading.update(Content(f"Open incidents of {message.what}: {message.error}"))
            return
        self.incidents = message.rows
        heading.update(Content.styled(f"Open incidents of {message.what} ({len(self.incidents)})", p["heading"]))
        table = self.query_one("#catalogue-incidents", DataTable)
        _columns(table, [("Incident", ["INC-000000"]), ("Sev", ["Sev5"]), ("State", ["in progress"]),
                         ("CI", [r[5] for r in self.incidents]), ("Title", [r[1] for r in self.incidents])])
        for number, title, severity, state, _service, ci in self.incidents:
            table.add_row(Content.styled(format_key(number), "bold"), f"Sev{severity}", state.replace("_", " "),
                          Content(ci or "-"), Content(title), key=str(number))
        self._show_changes(message.what, message.changes)

    def _show_changes(self, what: str, changes: list[Any]) -> None:
        shown = changes[:CHANGES_SHOWN]
        lines = [Content.styled(f"Changes of {what} ({len(changes)}{'+' if len(changes) >= CHANGES_SHOWN else ''})",
                                palette(self)["heading"])]
        if not shown:
            lines.append(Content("none"))
        for change in shown:
            window = f"{change.planned_start:%m-%d %H:%M}–{change.planned_end:%H:%M}Z"
            lines.append(Content.assemble((change.key, "bold"), f"  {change.state.value:<11} {change.risk.value:<6} "
                                          f"{window}  {change.title}"))
        self.query_one("#catalogue-changes", Static).update(Content("\n").join(lines))

    # --- following the cursor --------------------------------------------------------------------

    def _highlighted_service(self) -> str:
        table = self.query_one("#catalogue-services", DataTable)
        if not self.services or not 0 <= table.cursor_row < len(self.services):
            return ""
        return self.services[table.cursor_row]["name"]

    def _ci_names(self) -> list[str]:
        name = self._shown_service
        found = next((s for s in self.services if s["name"] == name), None)
        return found["cis"] if found else []

    def _show_service(self, name: str) -> None:
        if not name:
            return
        self._shown_service = name
        cis = self.query_one("#catalogue-cis", DataTable)
        _columns(cis, [("Configuration item", self._ci_names()), ("Open", ["9999"])])
        for ci in self._ci_names():
            cis.add_row(Content(ci), str(self.ci_open.get(ci, 0)), key=ci)
        self.load_incidents(service=name)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.data_table.id == "catalogue-services" and event.row_key.value != self._shown_service:
            self._show_service(str(event.row_key.value))
        elif event.data_table.id == "catalogue-cis" and event.data_table.has_focus:
            self.load_incidents(ci=str(event.row_key.value))

    def on_descendant_focus(self, event) -> None:
        # Moving to a list shows its highlighted row's incidents (tab from services to CIs, and back).
        table = event.widget
        if not isinstance(table, DataTable) or table.id not in ("catalogue-services", "catalogue-cis"):
            return
        if table.id == "catalogue-cis":
            names = self._ci_names()
            if names and 0 <= table.cursor_row < len(names):
                self.load_incidents(ci=names[table.cursor_row])
        elif self._shown_service:
            self.load_incidents(service=self._shown_service)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    # --- actions ---------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_reload(self) -> None:
        self.load()

    def action_open(self) -> None:
        focused = self.focused
        if isinstance(focused, DataTable) and focused.id == "catalogue-incidents":
            if self.incidents and 0 <= focused.cursor_row < len(self.incidents):
                # Through the app, which knows every screen: the detail screen opens this one (`i`).
                self.app.open_incident(self.incidents[focused.cursor_row][0])
            return
        if isinstance(focused, DataTable) and focused.id == "catalogue-cis":
            names = self._ci_names()
            if names and 0 <= focused.cursor_row < len(names):
                self.load_incidents(ci=names[focused.cursor_row])
        elif self._highlighted_service():
            self.load_incidents(service=self._highlighted_service())
        self.query_one("#catalogue-incidents", DataTable).focus()

    def action_show_service(self, name: str) -> None:
        names = [s["name"] for s in self.services]
        if name in names:
            self.query_one("#catalogue-services", DataTable).move_cursor(row=names.index(name))

    def palette_commands(self) -> Iterable[SystemCommand]:
        for s in self.services[:200]:  # the palette filters as you type
            yield SystemCommand(f"Catalogue: service {s['name']}", s["description"] or f"owned by {s['owner'] or '-'}",
                                partial(self.action_show_service, s["name"]))
