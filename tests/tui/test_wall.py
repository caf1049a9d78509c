"""The wall board in Pilot: counters that match the store, other people's changes within one poll,
countdowns with a fixed clock, the highlight and bell of a new Sev1 or a fresh breach, scopes,
confidential placeholders, and the arrangement at small, medium and large sizes."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Digits

from eim_tui.bootstrap import open_services
from eim_tui.config import Config
from eim_tui.domain.board import BoardScope
from eim_tui.domain.filters import parse
from eim_tui.domain.intake import NewIncident
from eim_tui.services.demo import generate
from eim_tui.tui.screens.wall import WallScreen
from eim_tui.tui.widgets.wall_banners import AlertBanner, MajorBanner
from eim_tui.tui.widgets.wall_figures import CompactCounters, SeverityPanel
from eim_tui.tui.widgets.wall_lists import BreachedList, GroupLoadPanel, NewestList, WarningList


@pytest.fixture
def store(tmp_path, clock):
    svc = open_services(f"sqlite:///{tmp_path}/wall.db", clock)
    yield svc
    svc.db.dispose()


@pytest.fixture
def demo(store):
    generate(store, incidents=60, seed=7)
    return store


@pytest.fixture
def wall(app_factory):
    """`wall(svc, user="lead", scope=None, bell=False)`: the board, counting in `app.bells` the bells
    it rings. app_factory's timers never fire by themselves: each test polls and ticks by hand, as
    the timers would."""

    def make(svc, user: str = "lead", scope: BoardScope | None = None, bell: bool = False):
        app = app_factory(svc, user, config=Config(wall_bell=bell), wall=scope or BoardScope())
        app.bells = 0

        def ring() -> None:  # in place of App.bell, which writes "\a" to the terminal (none here)
            app.bells += 1

        app.bell = ring
        return app

    return make


async def settle(pilot: Pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def poll(pilot: Pilot) -> None:
    """One turn of the board's poll timer, and what it loads."""
    screen = pilot.app.screen
    assert isinstance(screen, WallScreen)
    screen.poll()
    await settle(pilot)


async def tick(pilot: Pilot) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, WallScreen)
    screen.tick()
    await pilot.pause()


def text_of(widget) -> str:
    """What a widget draws, as plain text (a rich Table rendered at the widget's width)."""
    drawn = widget.render()
    if isinstance(drawn, Text):
        return drawn.plain
    console = Console(width=max(widget.content_size.width, 20), file=io.StringIO(), color_system=None)
    console.print(drawn)
    return console.file.getvalue()


def log(svc, title: str, impact: int, urgency: int, **fields):
    return svc.log_incident(NewIncident(title=title, impact=impact, urgency=urgency, **fields), "monitor")


async def test_counters_match_the_store(demo, wall) -> None:
    expected = demo.board(BoardScope(), viewer="lead")
    app = wall(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for panel in app.screen.query(SeverityPanel):
            load = expected.severity(panel.severity)
            for name in ("open", "unacknowledged", "breached"):
                digits = panel.query_one(f".wall-figure.-{name} Digits", Digits)
                assert digits.value == f"{getattr(load, name):,}", (panel.severity, name)
        assert expected.total.open > 0 and expected.total.breached > 0
        totals = str(app.screen.query_one("#wall-totals").render())
        assert f"{expected.total.open} open" in totals and f"{expected.total.breached} breached" in totals
        groups = app.screen.query_one(GroupLoadPanel)
        assert [g.group for g in groups.groups] == [g.group for g in expected.groups]
        assert "network-ops" in text_of(groups)
        majors = app.screen.query_one(MajorBanner)
        assert majors.display and "★ MAJOR" in text_of(majors)


async def test_a_change_by_another_process_appears_within_one_poll(demo, clock, tmp_path, wall) -> None:
    app = wall(demo, bell=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        before = app.screen.snapshot.severity(1).open
        other = open_services(f"sqlite:///{tmp_path}/wall.db", clock)  # another process's Services
        try:
            new = log(other, "Core router down in DC2", 1, 1, assignment_group="network-ops")
        finally:
            other.db.dispose()
        await poll(pilot)
        sev1 = app.screen.query_one("#wall-sev1", SeverityPanel)
        assert sev1.query_one(".wall-figure.-open Digits", Digits).value == str(before + 1)
        # A new Sev1: announced, its rows highlighted, the bell rung once.
        alert = app.screen.query_one(AlertBanner)
        assert alert.display and "NEW SEV1" in text_of(alert) and new.key in text_of(alert)
        assert new.number in app.screen.query_one(NewestList).flashing
        assert app.bells == 1
        # Thirty seconds later the alert is gone and nothing flashes.
        clock.advance(31)
        await tick(pilot)
        assert not alert.display and app.screen.query_one(NewestList).flashing == set()


async def test_an_unchanged_store_is_not_read_again(demo, monkeypatch, wall) -> None:
    app = wall(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        calls = []
        monkeypatch.setattr(demo, "board", lambda *a, **k: calls.append(a))
        await poll(pilot)
        assert calls == []


async def test_a_clock_moves_from_about_to_breach_to_breached_and_stays_listed(store, clock, wall) -> None:
    incident = log(store, "Payments API returns 502", 2, 2)  # Sev3: response due in 4 h, warning after 3 h
    app = wall(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        warning, breached = app.screen.query_one(WarningList), app.screen.query_one(BreachedList)
        assert incident.key not in text_of(warning) + text_of(breached)
        clock.advance(timedelta(hours=3))
        await poll(pilot)  # its warning instant makes the board read again
        assert incident.key in text_of(warning) and "1:00:00" in text_of(warning)
        clock.advance(1)
        await tick(pilot)
        assert "59:59" in text_of(warning)
        assert clock.now().strftime("%H:%M:%S") in str(app.screen.query_one("#wall-clock").render())
        clock.advance(timedelta(minutes=59, seconds=59))
        await tick(pilot)
        await poll(pilot)
        assert incident.key in text_of(breached) and incident.key not in text_of(warning)
        # Long after the fresh-breach highlight, it is still listed (it used to drop off after 30 s).
        clock.advance(timedelta(minutes=10))
        await tick(pilot)
        await poll(pilot)
        assert incident.key in text_of(breached) and "10:00" in text_of(breached)
        assert breached.border_title == "Breached · 1"


async def test_a_fresh_breach_flashes_rings_and_moves_the_counters(store, clock, wall) -> None:
    incident = log(store, "Checkout down", 1, 1)  # Sev1: response due in 15 minutes
    app = wall(store, bell=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.screen.snapshot.severity(1).breached == 0
        clock.advance(timedelta(minutes=15, seconds=1))
        await tick(pilot)
        alert = app.screen.query_one(AlertBanner)
        assert "BREACHED" in text_of(alert) and incident.key in text_of(alert)
        assert app.bells == 1
        await poll(pilot)  # the breach makes the board read its counters and lists again
        assert app.screen.snapshot.severity(1).breached == 1
        breached = app.screen.query_one(BreachedList)
        assert incident.key in text_of(breached) and "0:01" in text_of(breached)
        assert breached.highlighted(breached.rows[0])  # fresh: flashing
        assert app.screen.query_one("#wall-sev1").has_class("-breached")
        clock.advance(1)
        await tick(pilot)
        assert app.bells == 1  # announced once
        clock.advance(30)
        await tick(pilot)
        assert not alert.display


async def test_the_bell_stays_quiet_unless_configured(store, clock, wall) -> None:
    app = wall(store, bell=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        log(store, "Checkout down", 1, 1)
        await poll(pilot)
        assert "NEW SEV1" in text_of(app.screen.query_one(AlertBanner))
        assert app.bells == 0


@pytest.mark.parametrize(
    ("scope", "check"),
    [
        (BoardScope(group="dba"), lambda r: r.assignment_group == "dba"),
        (BoardScope(major_only=True), lambda r: r.major),
        (BoardScope(filter=parse("sev<=2")), lambda r: r.priority <= 2),
    ],
    ids=["group", "major", "filter"],
)
async def test_scopes(demo, scope, check, wall) -> None:
    app = wall(demo, scope=scope)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        board = app.screen.snapshot
        assert board.total.open == demo.board(scope, viewer="lead").total.open < demo.board(BoardScope()).total.open
        assert board.newest and all(check(r) for r in board.newest + board.closest)
        assert scope.label in str(app.screen.query_one("#wall-title").render())


async def test_confidential_incidents_show_as_placeholders(store, clock, wall) -> None:
    secret = log(store, "Ransomware note on fs-02", 1, 1, category="security", subcategory="malware",
                 assignment_group="security-ops")
    clock.advance(timedelta(minutes=20))  # its 15-minute response target ran out: on the breached list
    for user, shown in (("alice", "confidential"), ("quentin", "Ransomware note")):
        app = wall(store, user=user)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            for widget in (app.screen.query_one(BreachedList), app.screen.query_one(NewestList)):
                assert secret.key in text_of(widget) and shown in text_of(widget)
            if user == "alice":
                for widget in (app.screen.query_one(BreachedList), app.screen.query_one(NewestList)):
                    assert "Ransomware" not in text_of(widget) and "security-ops" not in text_of(widget)


async def test_a_store_failure_is_shown_and_the_board_keeps_its_figures(demo, monkeypatch, wall) -> None:
    app = wall(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        shown = app.screen.snapshot

        def broken(*args, **kwargs):
            raise OSError("database is locked")

        monkeypatch.setattr(demo, "change_marker", broken)
        await poll(pilot)
        title = app.screen.query_one("#wall-title")
        assert "cannot read the store: database is locked" in str(title.render()) and title.has_class("-error")
        assert app.screen.snapshot is shown


def top(app, selector: str) -> int:
    return app.screen.query_one(selector).region.y


def left(app, selector: str) -> int:
    return app.screen.query_one(selector).region.x


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40), (160, 30), (250, 70), (300, 80)])
async def test_every_section_fits_at_every_size(demo, size, wall) -> None:
    app = wall(demo)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        shown = app.screen.shown_sections()
        sections = ["wall-majors", "wall-today", "wall-breached", "wall-warning", "wall-groups", "wall-newest"]
        if app.screen.has_class("-narrow", "-short"):
            sections.remove("wall-newest")  # 80x24: the lists that need a person first
        for section in sections:
            assert section in shown, (size, section)
        assert ("wall-counters" in shown) != ("wall-counters-compact" in shown)
        width, height = size
        for section in shown:
            region = app.screen.query_one(f"#{section}").region
            assert region.right <= width and region.bottom <= height, (size, section, region)
        for widget in (app.screen.query_one(BreachedList), app.screen.query_one(WarningList)):
            assert len(widget.render().plain.splitlines()) >= 3, (size, widget.id)


async def test_80x24_is_compact_counters_over_one_column(demo, wall) -> None:
    app = wall(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        shown = app.screen.shown_sections()
        assert "wall-counters-compact" in shown and "wall-counters" not in shown
        assert app.screen.has_class("-narrow", "-short")
        assert top(app, "#wall-breached") < top(app, "#wall-warning") < top(app, "#wall-groups")
        assert left(app, "#wall-breached") == left(app, "#wall-warning") == left(app, "#wall-groups")
        assert "wall-newest" not in shown
        compact = text_of(app.screen.query_one(CompactCounters))
        assert "Sev1" in compact and "breached" in compact


async def test_120x40_is_big_digits_and_lists_side_by_side(demo, wall) -> None:
    app = wall(demo)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        shown = app.screen.shown_sections()
        assert "wall-counters" in shown and "wall-counters-compact" not in shown
        assert app.screen.query_one(".wall-figure.-open").display
        assert not app.screen.query_one(".wall-figure.-breached").display  # breached as text below
        assert left(app, "#wall-groups") > left(app, "#wall-breached") == left(app, "#wall-warning")
        assert top(app, "#wall-breached") < top(app, "#wall-warning")  # the clock lists stacked
        assert top(app, "#wall-groups") < top(app, "#wall-newest")  # beside them, groups over newest


async def test_250x70_shows_every_figure_in_digits_and_three_columns(demo, wall) -> None:
    app = wall(demo)
    async with app.run_test(size=(250, 70)) as pilot:
        await settle(pilot)
        assert app.screen.has_class("-huge", "-very-tall")
        assert app.screen.query_one(".wall-figure.-breached").display
        assert left(app, "#wall-breached") < left(app, "#wall-warning") < left(app, "#wall-groups")
        assert top(app, "#wall-breached") == top(app, "#wall-warning") == top(app, "#wall-groups")
        assert left(app, "#wall-groups") == left(app, "#wall-newest") and top(app, "#wall-groups") < top(app, "#wall-newest")
        groups = text_of(app.screen.query_one(GroupLoadPanel))
        assert all(label in groups for label in ("Open", "Breached", "Unassigned", "S1", "S5"))
        today = app.screen.query_one("#wall-today")
        assert today.region.height == 7 and "median" in str(today.render().columns[2].header)


async def test_keys_quit_and_help(demo, wall) -> None:
    app = wall(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, WallScreen)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
