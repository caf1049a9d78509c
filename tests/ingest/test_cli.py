"""`eim new --from-email`, `eim new --json`, and `eim ingest`'s start-up checks, from the command line."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from eim_tui.cli.main import main

from .samples import generic_event

MIME_EMAIL = textwrap.dedent("""\
    From: =?utf-8?q?Jos=C3=A9_Garc=C3=ADa?= <jose.garcia@example.com>
    To: servicedesk@example.com
    Subject: =?utf-8?q?VPN_tunnel_down_for_the_M=C3=BCnchen_office?=
    Date: Thu, 26 Nov 2026 08:40:00 +0100
    X-Priority: 1 (Highest)
    MIME-Version: 1.0
    Content-Type: multipart/alternative; boundary="b1"

    --b1
    Content-Type: text/plain; charset=utf-8
    Content-Transfer-Encoding: quoted-printable

    Since 08:30 nobody in M=C3=BCnchen can connect.
    The client says "peer not responding".

    --b1
    Content-Type: text/html; charset=utf-8

    <p>Since 08:30 nobody in M&uuml;nchen can connect.</p>
    --b1--
    """).replace("\n", "\r\n").encode()


def _run(args: list[str], monkeypatch, capsys, stdin: bytes | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    status = main(args)
    out, err = capsys.readouterr()
    return status, out, err


def _show(db_url: str, key: str, monkeypatch, capsys) -> dict:
    status, out, err = _run(["show", key, "--json", "--db", db_url, "--user", "lead"], monkeypatch, capsys)
    assert status == 0, err
    return json.loads(out)


def test_an_email_becomes_an_incident(db_url, monkeypatch, capsys) -> None:
    status, out, err = _run(["new", "--from-email", "--db", db_url, "--user", "grace"], monkeypatch, capsys, MIME_EMAIL)
    assert (status, out.strip(), err) == (0, "INC-000001", "")
    incident = _show(db_url, "INC-000001", monkeypatch, capsys)
    assert incident["title"] == "VPN tunnel down for the München office"
    assert incident["description"] == 'Since 08:30 nobody in München can connect.\nThe client says "peer not responding".'
    assert (incident["reporter_name"], incident["reporter_contact"]) == ("José García", "jose.garcia@example.com")
    assert incident["source"] == "email"
    assert (incident["impact"], incident["urgency"]) == (3, 2)  # X-Priority 1: sooner; impact unknown
    # The keyword rules of routing.toml propose what the new-incident form would.
    assert (incident["category"], incident["subcategory"], incident["assignment_group"]) == ("network", "vpn", "network-ops")
    assert incident["detected_at"] == "2026-11-26T07:40:00Z"


def test_an_email_piped_into_a_real_process(tmp_path: Path, monkeypatch, capsys) -> None:
    """`eim new --from-email < message.eml` from a shell: the bytes on stdin, as they were sent."""
    db_url = f"sqlite:///{tmp_path}/x.db"
    done = subprocess.run([sys.executable, "-m", "eim_tui", "new", "--from-email", "--db", db_url, "--user", "grace"],
                          input=MIME_EMAIL, capture_output=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"INC-000001\n", b"")
    incident = _show(db_url, "INC-000001", monkeypatch, capsys)
    assert (incident["title"], incident["reporter_name"]) == ("VPN tunnel down for the München office", "José García")
    assert incident["description"] == 'Since 08:30 nobody in München can connect.\nThe client says "peer not responding".'


def test_an_html_only_email_and_flags_that_win(db_url, monkeypatch, capsys) -> None:
    message = (b"From: printer-watch@example.com\r\nSubject: Printer jammed\r\nContent-Type: text/html\r\n\r\n"
               b"<html><body><p>Tray 2 &amp; tray 3 jammed</p><script>x()</script></body></html>\r\n")
    status, out, err = _run(["new", "--from-email", "--impact", "2", "--urgency", "2", "--group", "service-desk", "--json",
                             "--db", db_url], monkeypatch, capsys, message)
    assert status == 0, err
    incident = json.loads(out)
    assert (incident["title"], incident["description"], incident["priority"]) == ("Printer jammed", "Tray 2 & tray 3 jammed", 3)
    assert incident["assignment_group"] == "service-desk" and incident["reporter_contact"] == "printer-watch@example.com"


def test_an_event_on_stdin_is_routed_and_logged(db_url, monkeypatch, capsys) -> None:
    event = generic_event(severity="critical", service="checkout-web", labels={"service": "checkout-web"},
                          description="p95 above 2 s for 10 minutes")
    status, out, err = _run(["new", "--json", "--db", db_url, "--user", "cron"], monkeypatch, capsys, event)
    assert status == 0, err
    incident = json.loads(out)
    assert (incident["title"], incident["service"], incident["priority"], incident["source"]) == (
        "Checkout latency above 2s", "checkout-web", 1, "monitoring")
    assert (incident["category"], incident["assignment_group"]) == ("software", "app-support")  # rule checkout-latency


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["new", "--title", "x"], None, "the following arguments are required: --impact, --urgency"),
        (["new", "--json"], b'{"status": "resolved", "title": "x"}', "the event on stdin is resolved"),
        (["new", "--json"], b"[]", "the event on stdin: the body must be a JSON object"),
        (["new", "--json"], generic_event(service="atlantis"), "unknown service 'atlantis'"),
        (["new", "--from-email"], b"", "the message is empty"),
        (["new", "--from-email"], b"just some words\n", "the message has no headers"),
    ],
)
def test_bad_reports_say_why_in_one_line(db_url, monkeypatch, capsys, args, stdin, message) -> None:
    status, out, err = _run([*args, "--db", db_url], monkeypatch, capsys, stdin if stdin is not None else b"")
    assert status == 2 and out == ""
    assert message in err and err.count("\n") == 1


def test_a_rule_file_that_does_not_parse_stops_ingest_at_start_up(tmp_path: Path, monkeypatch, capsys) -> None:
    rules = tmp_path / "bad_rules.toml"
    rules.write_text('[[rule]]\nname = "x"\nmatch = { alertname = "A" \n')
    store = tmp_path / "never.db"
    status, out, err = _run(["ingest", "--rules", str(rules), "--db", f"sqlite:///{store}"], monkeypatch, capsys)
    assert status == 2 and err.startswith("eim: bad_rules.toml: line 3: ") and err.count("\n") == 1
    assert not store.exists()  # refused before the store was touched


@pytest.mark.parametrize(("flag", "value", "message"), [("--listen", "nowhere", "is not HOST:PORT"),
                                                        ("--max-body", "lots", "is not a size")])
def test_bad_ingest_options(tmp_path: Path, monkeypatch, capsys, flag, value, message) -> None:
    status, _, err = _run(["ingest", flag, value, "--db", f"sqlite:///{tmp_path}/x.db"], monkeypatch, capsys)
    assert status == 2 and message in err


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "eim_tui", "ingest", "--listen", f"127.0.0.1:{port}",
                               "--db", f"sqlite:///{tmp_path}/x.db"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.startswith(f"eim: cannot listen on 127.0.0.1:{port}")
    assert done.stderr.count("\n") == 1


def test_payloads_lists_what_was_received(db_url, monkeypatch, capsys) -> None:
    from eim_tui.bootstrap import open_services
    from eim_tui.ingest.processor import AlertProcessor
    from eim_tui.ingest.routing import load_alert_routing

    svc = open_services(db_url)
    try:
        AlertProcessor(svc, load_alert_routing(svc.ref)).accept("alertmanager", b"<xml/>", "text/xml", "10.1.2.3")
    finally:
        svc.db.dispose()
    status, out, _ = _run(["payloads", "--status", "rejected", "--json", "--db", db_url], monkeypatch, capsys)
    (row,) = json.loads(out)
    assert (status, row["source"], row["status"], row["body"], row["remote"]) == (0, "alertmanager", "rejected", "<xml/>", "10.1.2.3")
    assert row["error"].startswith("the body is not JSON")
