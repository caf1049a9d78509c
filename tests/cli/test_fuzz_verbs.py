"""Every `eim` command line, fuzzed: exit status 0, 1 or 2, never a traceback, the chain intact.

The commands and their options are read from the argparse parser itself (`build_parser`), so a
new verb or option is fuzzed without touching this file. Hypothesis builds argument lists from
them: valid-looking values (keys, users, groups, categories, dates from the store and the
reference data) mixed with hostile ones (see `tests/fuzz_strategies.py`), options in any order,
repeated, left out, `--` and unknown options thrown in. Each runs in this process against a store
with demo incidents, on SQLite and on PostgreSQL, and is judged:

- status 0, 1 or 2 and no traceback anywhere;
- status 2 (bad input): exactly one line on stderr, starting `eim: `;
- status 1 only as a command's own answer (`audit verify` found a break, `alerts test` reached
  nobody), which prints nothing on stderr; `eim: SomeError: …` with status 1 is main's last line
  of defence catching what nobody foresaw — a crash, so a failure here;
- afterwards `eim audit verify` passes.

`EIM_FUZZ_EXAMPLES` raises the example count; `EIM_FUZZ_LOG` names a file that gets one JSON
line per case (the bench, `tests/bench/bench_fuzz_cli.py`, counts them).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eim_tui.cli.main import build_parser
from tests.fuzz_strategies import (
    FILTER_WORDS,
    StoreWords,
    examples,
    hostile_text,
    number_text,
    pick,
    when_text,
)

# Commands that do not end by themselves: fuzzing them would start servers or full-screen apps.
EXCLUDED = {
    (): "the TUI itself: a full-screen app until `q` (its forms are fuzzed in tests/tui/test_fuzz_forms.py)",
    ("wall",): "the full-screen wall board: runs until interrupted",
    ("serve",): "a web server (textual-serve) that runs until interrupted",
    ("ingest",): "the webhook receiver: runs until interrupted (its bodies are fuzzed over HTTP in tests/ingest)",
    ("service",): "the headless service (SLA scheduler, notifications, maybe the receiver): runs until interrupted",
}

# Options whose values must stay inside the test's own directory or size, with the reason.
# `--tty` is always given: the default /dev/tty would ring the bell of whoever runs the tests.
ALWAYS = {"tty"}


def leaf_commands(parser: argparse.ArgumentParser) -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every command path (`("users", "add")`) and the parser that reads its options."""
    found: dict[tuple[str, ...], argparse.ArgumentParser] = {}

    def walk(path: tuple[str, ...], node: argparse.ArgumentParser) -> None:
        subs = [a for a in node._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs or not subs[0].required:
            found[path] = node  # the command alone runs (for the top level: the TUI)
        for sub in subs:
            for name, child in sub.choices.items():
                walk((*path, name), child)

    walk((), parser)
    return found


COMMANDS = leaf_commands(build_parser())
FUZZED = sorted(path for path in COMMANDS if path not in EXCLUDED)


def test_the_exclusions_name_real_commands_and_everything_else_is_fuzzed() -> None:
    assert set(EXCLUDED) <= set(COMMANDS), "an excluded command no longer exists: drop it from EXCLUDED"
    assert len(FUZZED) >= 20 and ("new",) in FUZZED and ("users", "add") in FUZZED


# --- values ---------------------------------------------------------------------------------------

_PATHS = ["-", "out.txt", "dir", "dir/", ".", "missing/dir/out.md", "review.json", "notjson.txt", "empty.json",
          "list.json", "/dev/null", "/dev/full", "/nonexistent/dir/f", "/proc/version", "", " ", "\x00", "-x"]


def _names_a_file(action: argparse.Action) -> bool:
    """A path option or argument (by its name or metavar): its values must stay in the test's directory."""
    words = f"{action.dest} {action.metavar or ''}".lower()
    return any(w in words for w in ("file", "path", "dir", "output", "out", "tty", "rules", "map", "jsonl",
                                    "anchor"))


def _value(action: argparse.Action, words: StoreWords) -> st.SearchStrategy[str]:
    """Values for one option: the kind it expects (by its name and type) and hostile text."""
    dest = action.dest
    valid: list[st.SearchStrategy[str]] = []
    if _names_a_file(action):
        # Files: only inside the test's directory (and a few device files), never the developer's.
        return st.one_of(st.sampled_from(_PATHS), hostile_text().filter(lambda t: "/" not in t and len(t) < 200))
    if dest == "incidents":  # `eim demo --incidents 10**9` does what it is asked, for hours
        return st.one_of(st.integers(-3, 30).map(str), st.sampled_from(["", "x", "1.5", "٣", "-0"]))
    if dest == "db":
        return st.sampled_from([
            "", "nonsense://x", "sqlite://", "sqlite:///", "sqlite:////", "sqlite:///missing/dir/x.db",
            "sqlite:///dir", "postgresql+psycopg://postgres@127.0.0.1:1/eim", "mysql://x@127.0.0.1:1/y",
            "\x00", "sqlite:///\x00",
        ])  # a file that is not a store is status 1 by design (tests/cli/test_errors.py): not here
    if action.choices is not None:
        valid.append(st.sampled_from([str(c) for c in action.choices]))
    if action.type not in (None, str) and dest not in ("key", "parent"):
        valid.append(number_text())
    by_name = {
        "key": words.key(), "parent": words.key(),
        "user": pick(words.users), "assignee": pick(words.users), "name": pick(words.users),
        "verified_by": pick(words.users),
        "group": pick(words.groups), "add_group": pick(words.groups), "remove_group": pick(words.groups),
        "category": pick(words.categories), "subcategory": pick(words.subcategories),
        "service": pick(words.services), "ci": pick(words.cis), "code": pick(words.codes),
        "role": pick(words.roles), "detected": when_text(), "filter": st.sampled_from(FILTER_WORDS),
        "kind": st.sampled_from(["observation", "hypothesis", "test", "finding", "why", "root_cause", "action"]),
        "status": st.sampled_from(["open", "confirmed", "rejected", "pending", "failed"]),
        "reason": st.sampled_from(["awaiting_user", "vendor", "change", "other", "lunch", "duplicate report"]),
        "problem": st.sampled_from(["PRB-1", "PRB-000042", ""]), "change": st.sampled_from(["CHG-42", ""]),
        "email": st.sampled_from(["ops@example.com", "not an address", "a@b"]),
    }
    if dest in by_name:
        valid.append(by_name[dest])
    valid.append(st.text(min_size=1, max_size=60))  # what a person types: any text, mostly printable
    return st.one_of(*valid, *valid, hostile_text())


_STDIN = [
    "", "\x00", "not json", "[]", "{}", '{"summary": "x"}', "null", '{"title": "Disk full", "severity": "critical"}',
    '{"summary": "s", "went_well": "a", "went_badly": "b", "actions": [{"action": "fix", "owner": "bob"}]}',
    "Subject: Printer on fire\nFrom: Dana <dana@example.com>\n\nIt is on fire.\n",
    "Subject: \x00\n\n", "From: nobody\n\n" + "x" * 5000, "[" * 5000 + "]" * 5000,
]


def _as_piped(text: str) -> str:
    """Text as it comes through a pipe: bytes that are not UTF-8 arrive as U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@st.composite
def command_line(draw: st.DrawFn, path: tuple[str, ...], parser: argparse.ArgumentParser,
                 words: StoreWords) -> list[str]:
    """One argument list for `path`: its options in any order, some left out, some twice, odd extras."""
    parts: list[list[str]] = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
            continue
        if not action.option_strings:  # a positional: nearly always there
            if draw(st.integers(0, 19)) > 0:
                parts.append([draw(_value(action, words))])
            continue
        roll = draw(st.integers(0, 9))
        times = 1 if action.dest in ALWAYS else (roll > 0) if action.required else (roll > 5) + (roll == 9)
        for _ in range(times):
            flag = draw(st.sampled_from(action.option_strings))
            if action.nargs == 0:
                parts.append([flag])
            elif draw(st.integers(0, 3)) == 0 and flag.startswith("--"):
                parts.append([f"{flag}={draw(_value(action, words))}"])
            else:
                parts.append([flag, draw(_value(action, words))])
    parts += [[extra] for extra in draw(st.lists(
        st.sampled_from(["--", "--frobnicate", "-x", "extra", "--help", "-", "--json", "--user"]), max_size=2))]
    order = draw(st.permutations(parts)) if parts else []
    prefix = ["--user", draw(pick(words.users) | hostile_text())] if draw(st.integers(0, 4)) == 0 else []
    return [*prefix, *path, *(token for part in order for token in part)]


# --- judging --------------------------------------------------------------------------------------


def what_is_wrong(result) -> str | None:
    """Why this run breaks the command line's promise, or None."""
    if result.status not in (0, 1, 2):
        return f"exit status {result.status}"
    if "Traceback" in result.err or "Traceback" in result.out:
        return "a traceback"
    lines = result.err.split("\n")[:-1] if result.err.endswith("\n") else result.err.split("\n")
    if result.status == 2 and (len(lines) != 1 or not lines[0].startswith("eim: ")):
        return "bad input must be one line `eim: …` on stderr"
    if result.status == 1 and result.err:
        return "status 1 with a message is the last line of defence: an unforeseen exception"
    return None


def _log(case: str, backend: str, result, wrong: str | None) -> None:
    target = os.environ.get("EIM_FUZZ_LOG")
    if target:
        with open(target, "a", encoding="utf-8") as log:
            log.write(json.dumps({"kind": "cli", "case": case, "backend": backend, "status": result.status,
                                  "crash": wrong is not None}) + "\n")


@pytest.fixture
def fuzz_store(eim_on, svc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A store with demo incidents in every state (and the shipped users with every role: the
    fuzzed `--user` picks among them), and a working directory of the test's own (relative paths in the fuzzed arguments land there)."""
    eim_on("demo", "--incidents", "12", "--seed", "3")
    cwd = tmp_path / "cwd"
    (cwd / "dir").mkdir(parents=True)
    (cwd / "review.json").write_text(_STDIN[8])
    (cwd / "notjson.txt").write_text("not json")
    (cwd / "empty.json").write_text("")
    (cwd / "list.json").write_text("[1, 2]")
    monkeypatch.chdir(cwd)
    return eim_on, StoreWords.of(svc)


@pytest.mark.parametrize("path", FUZZED, ids=" ".join)
def test_every_command_line_ends_in_0_1_or_2_and_keeps_the_chain(path, fuzz_store, backend) -> None:
    eim, words = fuzz_store
    parser = COMMANDS[path]

    @settings(max_examples=examples(5), deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(argv=command_line(path, parser, words), stdin=st.sampled_from(_STDIN) | hostile_text().map(_as_piped))
    def run(argv: list[str], stdin: str) -> None:
        result = eim(*argv, ok=False, stdin=stdin)
        wrong = what_is_wrong(result)
        _log(" ".join(path), backend, result, wrong)
        assert wrong is None, f"{wrong}: {argv!r} → {result.status}, stderr {result.err[:2000]!r}"
        verify = eim("audit", "verify", ok=False)
        assert verify.status == 0, f"the chain broke after {argv!r}:\n{verify}"

    run()


# --- what the fuzzing found, kept as plain regression tests ---------------------------------------------


@pytest.mark.parametrize(("content", "message"), [
    (None, "larger than a review can be"),  # /dev/zero: endless, so `close` used to read forever
    ("[" * 100_000, "nested too deeply"),  # json's RecursionError was a crash (status 1)
    (b"\xff\xfe{}", "is not UTF-8 text"),  # UnicodeDecodeError was a crash (status 1)
])
def test_a_review_file_that_is_endless_deep_or_not_text_is_one_line_and_status_2(eim, tmp_path, content,
                                                                                  message) -> None:
    key = eim.new()
    eim("ack", key)
    eim("resolve", key, "--code", "fixed", "--notes", "restarted")
    if content is None:
        path = "/dev/zero"
    else:
        path = str(tmp_path / "review.json")
        Path(path).write_bytes(content if isinstance(content, bytes) else content.encode())
    result = eim("close", key, "--review-file", path, ok=False)
    assert (result.status, result.out) == (2, ""), str(result)
    assert result.err.startswith("eim: --review-file") and message in result.err and result.err.count("\n") == 1
    assert eim("show", key, "--json").json["state"] == "resolved"  # nothing was written


def test_text_with_bytes_that_are_not_utf8_is_refused_in_one_line_on_both_backends(eim_on) -> None:
    """A shell hands Python a byte that is not UTF-8 as "\\udcXX"; no driver can store that (it was
    a UnicodeEncodeError, status 1, on PostgreSQL)."""
    key = eim_on.new()
    for args in (["link", key, "--problem", "PRB-\udc80"], ["note", key, "--kind", "observation", "--text", "\udcff"],
                 ["new", "--title", "disk \udcfe full", "--impact", "1", "--urgency", "1"]):
        result = eim_on(*args, ok=False)
        assert result.status == 2 and result.err.count("\n") == 1, str(result)
        assert result.err.startswith("eim: text contains bytes that are not UTF-8")
    assert eim_on("show", key, "--json").json["problem_ref"] == ""
    assert [r["key"] for r in eim_on("list", "--json", "--filter", "all").json] == [key]
    assert eim_on("audit", "verify").status == 0


@pytest.mark.parametrize("url", ["\x00", "sqlite:///x\x00.db", "postgresql+psycopg://postgres@127.0.0.1/x\x00"])
def test_a_store_url_with_a_nul_is_one_line_and_status_2(eim, url) -> None:
    """config.toml can spell a NUL (\\u0000) where argv cannot; it was `ValueError: embedded null byte`."""
    result = eim("list", db=url, ok=False)
    assert (result.status, result.out) == (2, ""), str(result)
    assert result.err.startswith("eim: cannot read database URL") and result.err.count("\n") == 1


def test_alerts_test_never_writes_into_an_ordinary_file(eim, tmp_path) -> None:
    """`--tty notes.txt` used to overwrite the file's first bytes with the bell and the escape."""
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me\n")
    for path in (str(notes), "a\x00b"):
        result = eim("alerts", "test", "--tty", path, ok=False)
        assert result.status == 2 and result.err.startswith("eim: argument --tty:") and result.err.count("\n") == 1
    assert notes.read_text() == "keep me\n"


def test_a_message_quoting_control_characters_stays_one_line(eim) -> None:
    """argparse quotes unknown arguments as typed: a newline or a carriage return split the line."""
    result = eim("new", "--frobnicate", "a\nb\rc\x1b[31m\x1e", ok=False)
    assert result.status == 2 and result.err.count("\n") == 1, str(result)
    assert result.err == "eim: unrecognized arguments: --frobnicate a\\nb\\rc\\x1b[31m\\x1e (see eim --help)\n"


FILE_OPTIONS = [  # every command line that reads a file the person named; {bad} is the device or FIFO
    ("cis", "import", "{bad}", "--map", "{map}"),
    ("cis", "import", "{csv}", "--map", "{bad}"),
    ("catalog", "apply", "{bad}"),
    ("import", "servicenow", "{bad}"),
    ("import", "csv", "{csv}", "--map", "{bad}"),
    ("audit", "verify", "--file", "{bad}"),
    ("audit", "verify", "--file", "{bad}", "--anchor", "{bad}"),
    ("payloads", "retry", "--failed", "--rules", "{bad}"),
    ("ingest", "--rules", "{bad}", "--listen", "127.0.0.1:1"),
    ("service", "--rules", "{bad}", "--check"),
]


@pytest.mark.parametrize("kind", ["device", "fifo", "directory"])
@pytest.mark.parametrize("argv", FILE_OPTIONS, ids=lambda a: " ".join(a).replace("{", "").replace("}", ""))
def test_a_device_fifo_or_directory_named_as_a_file_is_refused_in_one_line(eim, tmp_path, argv, kind) -> None:
    """The CLI fuzz was OOM-killed: `/dev/zero` as `eim cis import FILE` was read whole (endless).
    Every file option now refuses what is not a regular file before reading it."""
    if kind == "device":
        bad = "/dev/zero"
    elif kind == "fifo":
        bad = str(tmp_path / "pipe")
        os.mkfifo(bad)  # nobody writes: reading it would wait for ever
    else:
        bad = str(tmp_path)
    (tmp_path / "map.toml").write_text('name = "name"\nservice = "service"\n', encoding="utf-8")
    (tmp_path / "cis.csv").write_text("name,service\nweb-01,email\n", encoding="utf-8")
    words = {"bad": bad, "map": str(tmp_path / "map.toml"), "csv": str(tmp_path / "cis.csv")}
    args = [part.format(**words) for part in argv]
    result = eim("--user", "admin", *args, ok=False)
    assert result.status == 2 and result.err.startswith("eim: ") and result.err.count("\n") == 1, str(result)
    assert "Traceback" not in result.err
