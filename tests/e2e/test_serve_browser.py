"""`eim serve` in a real browser: the server runs as a process on a free loopback port, headless
Chromium (Debian's package) opens the page, and the page's terminal is read line by line to check
that the queue (or the board) is on screen, with its title, column headings and incidents; a
screenshot is taken too (kept in the test's tmp directory to look at).

Chromium is driven over the DevTools protocol with aiohttp's websocket client. textual-serve's
page draws with xterm.js on a canvas, so there is no text in the DOM to read: two scripts added
before the page loads record the terminal bytes the page's websocket brings, and catch the page's
xterm.js terminal, whose screen buffer (what the canvas is painted from) is then read line by line.
Without Chromium the test is skipped — except under CI (`CI` set), where that is a failure.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DEADLINE = 60.0
ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|.)")

# Records every byte the page's websockets receive (the served terminal's output), as text.
RECORD_TERMINAL = """
(() => {
  window.__eimTerminal = "";
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  function Recording(url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    ws.addEventListener("message", (event) => {
      if (typeof event.data !== "string") {
        window.__eimTerminal += decoder.decode(new Uint8Array(event.data), {stream: true});
      }
    });
    return ws;
  }
  Recording.prototype = Native.prototype;
  Object.assign(Recording, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  window.WebSocket = Recording;
})();
"""


# textual-serve keeps its xterm.js terminal to itself, but hands it to the fit addon on load
# (`activate(terminal) { this._terminal = terminal }`): a setter catches it there. Only the public
# terminal (the one with `buffer.active`) is kept; every object still gets its own `_terminal`.
CATCH_TERMINAL = """
(() => {
  Object.defineProperty(Object.prototype, "_terminal", {
    configurable: true,
    set(value) {
      Object.defineProperty(this, "_terminal", {value, writable: true, configurable: true, enumerable: true});
      if (value && value.buffer && value.buffer.active && typeof value.buffer.active.getLine === "function") {
        window.__eimXterm = value;
      }
    },
  });
})();
"""

# The lines xterm.js shows (its viewport), as text; null until the terminal is caught.
READ_SCREEN = """
(() => {
  const term = window.__eimXterm;
  if (!term) return null;
  const buffer = term.buffer.active, lines = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
})()
"""

# Resolves once the browser has painted twice more (xterm.js paints on animation frames).
TWO_FRAMES = "new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))"


@dataclass(frozen=True)
class Expected:
    """What the served screen must show: its first line, its column headings, an incident's row;
    and a phrase the server's output must carry (as the test asked before it read the screen)."""

    title: str
    headings: tuple[str, ...]
    row: re.Pattern[str]
    sent: str

    def seen_in(self, screen: str) -> bool:
        lines = screen.splitlines()
        return (bool(lines) and self.title in lines[0] and all(h in screen for h in self.headings)
                and any(self.row.search(line) for line in lines))


QUEUE = Expected("eim · All open", ("Key", "Sev", "State", "Title", "SLA", "Age"),
                 re.compile(r"^ +INC-0000\d\d S[1-5]"), sent="All open")
WALL = Expected("eim wall · all incidents", ("Breached", "About to breach", "Load per group", "Key", "Left"),
                re.compile(r"│ INC-0000\d\d Sev[1-5]"), sent="About to breach")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, what: str, deadline: float = DEADLINE):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if result := check():
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def stop(process: subprocess.Popen) -> None:
    """End a process this test started, with the children it started (its own session)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (apt-get install chromium); CI must run the browser test")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EIM_")}
    clean.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"),
                 TZ="UTC", PYTHONWARNINGS="ignore")
    return clean


@pytest.fixture(params=[[], ["--wall"]], ids=["queue", "wall"])
def served(request, tmp_path, env):
    """`eim serve` (and `eim serve --wall`) on a free loopback port, over a store with demo
    incidents; yields its URL and what the right screen shows."""
    db = f"sqlite:///{tmp_path}/served.db"
    eim = [sys.executable, "-m", "eim_tui", "--db", db, "--user", "alice"]
    subprocess.run([*eim, "demo", "--incidents", "30"], env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    log = open(tmp_path / "serve.log", "wb")
    server = subprocess.Popen([*eim, "serve", "--port", str(port), *request.param], env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"

    def page_served() -> bool:
        assert server.poll() is None, (tmp_path / "serve.log").read_text(errors="replace")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                return reply.status == 200 and b"textual-terminal" in reply.read()
        except OSError:
            return False

    try:
        wait_for(page_served, "eim serve to answer")
        yield url, (WALL if request.param else QUEUE)
    finally:
        stop(server)
        log.close()


@pytest.fixture
def browser(chromium, tmp_path):
    """Headless Chromium with the DevTools protocol on a port it picks; yields that port."""
    profile = tmp_path / "chromium-profile"
    process = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--window-size=1280,800", "--remote-debugging-port=0",
         "--remote-allow-origins=*", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "chromium.log", "wb"), start_new_session=True,
    )
    active = profile / "DevToolsActivePort"
    try:
        wait_for(lambda: active.exists() and active.read_text().strip(), "Chromium's DevTools port")
        yield int(active.read_text().split()[0])
    finally:
        stop(process)


class DevTools:
    """The least of a DevTools protocol client: send a command, wait for its answer."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 0

    async def send(self, method: str, **params) -> dict:
        self.next_id += 1
        ident = self.next_id
        await self.ws.send_str(json.dumps({"id": ident, "method": method, "params": params}))
        async for message in self.ws:
            reply = json.loads(message.data)
            if reply.get("id") == ident:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply.get("result", {})
        raise AssertionError(f"DevTools closed before answering {method}")

    async def evaluate(self, expression: str, wait: bool = False):
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=wait)
        return result["result"].get("value")


async def open_and_look(devtools_port: int, url: str, expected: Expected, screenshot: Path) -> tuple[str, str]:
    """Open `url`, wait until the page's terminal shows `expected`, take the screenshot; return the
    text the page's websocket brought (escape sequences taken out) and the terminal's screen."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{devtools_port}/json/list") as reply:
            page = next(t for t in await reply.json() if t["type"] == "page")
        async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            tools = DevTools(ws)
            await tools.send("Page.enable")
            await tools.send("Page.addScriptToEvaluateOnNewDocument", source=RECORD_TERMINAL)
            await tools.send("Page.addScriptToEvaluateOnNewDocument", source=CATCH_TERMINAL)
            await tools.send("Page.navigate", url=url)
            end = time.monotonic() + DEADLINE
            screen = ""
            while time.monotonic() < end:
                screen = await tools.evaluate(READ_SCREEN) or ""
                if expected.seen_in(screen):
                    break
                await asyncio.sleep(0.3)
            await tools.evaluate(TWO_FRAMES, wait=True)  # the last frame painted before the picture
            picture = await tools.send("Page.captureScreenshot", format="png")
            screenshot.write_bytes(base64.b64decode(picture["data"]))
            connected = await tools.evaluate("document.body.classList.contains('-first-byte')")
            assert connected, "the page never received the served terminal's output"
            received = ANSI.sub("", await tools.evaluate("window.__eimTerminal || ''") or "")
            return received, screen


def test_eim_serve_shows_the_queue_or_the_board_in_a_browser(served, browser, tmp_path) -> None:
    url, expected = served
    screenshot = tmp_path / "eim-serve.png"
    received, screen = asyncio.run(open_and_look(browser, url, expected, screenshot))
    # What the page shows: the title on the first line, the column headings, incidents' rows.
    assert expected.seen_in(screen), screen
    assert expected.sent in received and re.search(r"INC-0000\d\d", received), received[-2000:]
    picture = screenshot.read_bytes()
    assert picture.startswith(b"\x89PNG\r\n\x1a\n")
    # A blank 1280x800 page compresses to a few kilobytes; a terminal full of text does not.
    assert len(picture) > 30_000, len(picture)
