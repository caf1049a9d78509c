"""The terminal notification escapes: their bytes, what user text may not smuggle into them, tmux
passthrough, and where they are written (the app's driver between frames, or /dev/tty)."""

from __future__ import annotations

import os

import pytest

from eim_tui.notify.terminal import (
    for_terminal,
    notification_escape,
    tmux_wrap,
    write_in_app,
    write_to_tty,
)


def test_osc777_carries_title_and_body() -> None:
    assert notification_escape("osc777", "INC-000001 Sev1 breached", "DB down") == (
        "\x1b]777;notify;INC-000001 Sev1 breached;DB down\x07"
    )


def test_osc9_and_osc99() -> None:
    assert notification_escape("osc9", "T", "B") == "\x1b]9;T: B\x07"
    assert notification_escape("osc99", "T", "B") == "\x1b]99;i=eim:d=0:p=title;T\x1b\\\x1b]99;i=eim:d=1:p=body;B\x1b\\"


def test_user_text_cannot_end_the_sequence_or_add_fields() -> None:
    hostile = "Disk; full\x07\x1b]52;c;ZXZpbA==\x07\x9c[bold]"
    sequence = notification_escape("osc777", hostile, "body;more")
    # exactly one ESC ] at the start and one BEL at the end; four fields
    assert sequence.count("\x1b") == 1 and sequence.count("\x07") == 1 and "\x9c" not in sequence
    assert sequence[len("\x1b]"):-1].split(";") == ["777", "notify", "Disk, full  ]52,c,ZXZpbA==  [bold]", "body,more"]


def test_tmux_passthrough_doubles_every_escape() -> None:
    inner = notification_escape("osc99", "T", "B")
    assert tmux_wrap(inner) == "\x1bPtmux;" + inner.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    assert for_terminal("osc777", "T", "B", {"TMUX": "/tmp/tmux-0/default,1,0"}).startswith("\x1bPtmux;\x1b\x1b]777;")
    assert for_terminal("osc777", "T", "B", {"TMUX": "x"}, passthrough=False).startswith("\x1b]777;")
    assert for_terminal("osc777", "T", "B", {}).startswith("\x1b]777;")


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="osc777, osc9 or osc99"):
        notification_escape("osc52", "T", "B")


class FakeApp:
    def __init__(self, driver, headless=False, web=False) -> None:
        self._driver, self.is_headless, self.is_web = driver, headless, web


class Recorder:
    def __init__(self) -> None:
        self.written: list[str] = []

    def write(self, data: str) -> None:
        self.written.append(data)


def test_inside_the_app_it_goes_through_the_driver_and_nowhere_when_headless() -> None:
    driver = Recorder()
    assert write_in_app(FakeApp(driver), "\x1b]9;x\x07")
    assert driver.written == ["\x1b]9;x\x07"]
    assert not write_in_app(FakeApp(driver, headless=True), "y") and not write_in_app(FakeApp(driver, web=True), "y")
    assert not write_in_app(FakeApp(None), "y")
    assert driver.written == ["\x1b]9;x\x07"]


def test_outside_the_app_it_goes_to_the_terminal_device() -> None:
    leader, follower = os.openpty()
    try:
        assert write_to_tty("\x1b]777;notify;T;B\x07", os.ttyname(follower))
        assert os.read(leader, 100) == b"\x1b]777;notify;T;B\x07"
    finally:
        os.close(leader)
        os.close(follower)
    assert not write_to_tty("x", "/nonexistent/tty")
