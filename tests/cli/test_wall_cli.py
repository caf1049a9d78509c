"""`eim wall` and `eim serve` on the command line: bad scopes and ports are one line and status 2,
the served command carries the scope, and the server's environment turns desktop alerts off."""

from __future__ import annotations

import argparse
import socket
import sys

import pytest

from eim_tui.cli.main import build_parser
from eim_tui.cli.wall import served_command

BAD = {
    "bad filter": (["wall", "--filter", "sev<=9"], "--filter: 'sev<=9': severity must be a number 1–5"),
    "unknown field": (["wall", "--filter", "colour:red"], "unknown field 'colour'"),
    "unknown group": (["wall", "--group", "plumbers"], "unknown group 'plumbers'; use one of: service-desk"),
    "unknown view": (["wall", "--view", "mine"], "invalid choice: 'mine'"),
    "serve a bad filter": (["serve", "--wall", "--filter", "state:asleep"], "unknown state 'asleep'"),
    "scope without --wall": (["serve", "--group", "dba"], "add --wall"),
    "not a port": (["serve", "--port", "99999"], "'99999' is not a port number"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_input_is_one_line_and_status_2(eim, case) -> None:
    args, message = BAD[case]
    result = eim(*args, ok=False)
    assert result.status == 2, str(result)
    assert result.err.count("\n") == 1 and result.err.startswith("eim: "), str(result)
    assert message in result.err, str(result)


def test_a_port_in_use_is_refused(eim) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = eim("serve", "--port", str(port), ok=False)
    assert result.status == 2 and f"cannot listen on 127.0.0.1:{port}: in use" in result.err, str(result)


def test_help_names_both_commands(eim) -> None:
    out = eim("--help").out
    assert "wall" in out and "serve" in out
    serve = eim("serve", "--help").out
    assert "127.0.0.1" in serve and "--wall" in serve


def parse(*argv: str) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    args.user = "alice"
    return args


def test_the_served_command_carries_the_scope() -> None:
    assert served_command(parse("serve")) == [sys.executable, "-m", "eim_tui"]
    wall = served_command(parse("serve", "--wall", "--group", "dba", "--view", "major", "--filter", "sev<=2 'a b'"))
    assert wall == [sys.executable, "-m", "eim_tui", "wall", "--group", "dba", "--view", "major",
                    "--filter", "sev<=2 'a b'"]


def test_serve_hands_store_and_user_to_the_served_processes(monkeypatch, tmp_path) -> None:
    """The served `eim` finds the store and the user in its environment."""
    import textual_serve.server

    from eim_tui.bootstrap import open_services
    from eim_tui.cli.wall import cmd_serve

    seen = {}

    class FakeServer:
        def __init__(self, command, host, port, title, public_url):
            seen.update(command=command, host=host, port=port, title=title)

        def serve(self):
            import os

            seen.update({k: os.environ.get(k) for k in ("EIM_DB", "EIM_USER")})

    monkeypatch.setattr(textual_serve.server, "Server", FakeServer)
    for name in ("EIM_DB", "EIM_USER"):  # recorded, so what cmd_serve sets is undone after
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    svc = open_services(f"sqlite:///{tmp_path}/s.db")
    args = parse("serve", "--wall", "--port", "8765")
    assert cmd_serve(args, svc) == 0
    assert seen == {
        "command": f"{sys.executable} -m eim_tui wall", "host": "127.0.0.1", "port": 8765, "title": "eim wall",
        "EIM_DB": f"sqlite:///{tmp_path}/s.db", "EIM_USER": "alice",
    }


def test_the_wall_bell_setting(tmp_path) -> None:
    from eim_tui.config import ConfigError, load_config

    config = tmp_path / "config.toml"
    assert load_config(config).wall_bell is False  # no file: quiet
    config.write_text("[wall]\nbell = true\n")
    assert load_config(config).wall_bell is True
    config.write_text('[wall]\nbell = "loud"\n')
    with pytest.raises(ConfigError, match=r"\[wall\] bell must be true or false"):
        load_config(config)
