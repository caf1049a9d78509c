"""`eim users …` on the command line: good input changes the store, bad input is one line and exit 2."""

from __future__ import annotations

import os
import pwd

import pytest


def _login() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


def test_list_shows_the_shipped_users_with_roles_and_groups(eim) -> None:
    listed = {u["name"]: u for u in eim("users", "list", "--json").json}
    assert listed["admin"]["role"] == "admin" and listed["yara"]["role"] == "viewer"
    assert listed["rania"]["groups"] == ["identity", "security-ops"] and listed["rania"]["role"] == "shift_lead"
    text = eim("users", "list").out.splitlines()
    assert "alice            responder   network-ops,platform" in text


def test_an_admin_adds_and_changes_users(eim) -> None:
    added = eim("--user", "admin", "users", "add", "zoe", "--role", "viewer", "--group", "platform",
                "--group", "dba", "--full-name", "Zoe Q")
    assert added.out == "added zoe              viewer      dba,platform\n"
    changed = eim("--user", "admin", "users", "set", "zoe", "--role", "shift-lead", "--add-group", "security-ops",
                  "--remove-group", "dba")
    assert changed.out == "changed zoe              shift_lead  platform,security-ops\n"
    zoe = {u["name"]: u for u in eim("users", "list", "--json").json}["zoe"]
    assert zoe == {"name": "zoe", "full_name": "Zoe Q", "email": "", "role": "shift_lead",
                   "groups": ["platform", "security-ops"], "known": True}
    # The new role holds at once: zoe, now a shift lead, may cancel.
    key = eim.new()
    assert eim("--user", "zoe", "cancel", key, "--reason", "test").out.startswith("INC-000001 cancelled")


def test_whoami_tells_a_login_its_role(eim) -> None:
    assert eim("--user", "yara", "users", "whoami").out == (
        "yara             viewer      -\nyou are yara: named by the owner of the store file (" + _login() + ")\n")
    stranger = eim("--user", "stranger", "users", "whoami", "--json").json
    assert (stranger["role"], stranger["known"]) == ("responder", False)
    assert eim("--user", "stranger", "users", "whoami", env={"EIM_DEFAULT_ROLE": "viewer"}).out.splitlines()[0] == (
        "stranger         viewer      - (not in the store: the default role)")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "alice", "users", "add", "zoe", "--role", "viewer"],
         "managing users needs the admin role; alice is a responder"),
        (["--user", "lead", "users", "set", "bob", "--role", "admin"],
         "managing users needs the admin role; lead is a shift lead"),
        (["--user", "admin", "users", "add", "alice", "--role", "viewer"],
         "user 'alice' already exists; change it with `eim users set alice …`"),
        (["--user", "admin", "users", "add", "zoe", "--role", "boss"],
         "unknown role 'boss'; use one of: viewer, responder, shift_lead, admin"),
        (["--user", "admin", "users", "add", "zoe bar", "--role", "viewer"],
         "'zoe bar' is not a user name; use letters, digits and . _ @ + - (at most 100, no spaces)"),
        (["--user", "admin", "users", "add", "zoe", "--role", "viewer", "--group", "nope"],
         "unknown group 'nope'; use one of: app-support, dba, end-user-computing, identity, network-ops, "
         "platform, security-ops, service-desk"),
        (["--user", "admin", "users", "add", "zoe"],
         "the following arguments are required: --role (see eim users add --help)"),
        (["--user", "admin", "users", "set", "nobody", "--role", "viewer"],
         "no user 'nobody'; add one with `eim users add nobody --role ROLE`"),
        (["--user", "admin", "users", "set", "bob"],
         "nothing to change; say --role ROLE, --add-group G and/or --remove-group G"),
        (["--user", "admin", "users", "set", "bob", "--remove-group", "identity"],
         "bob is not in group 'identity'; their groups: dba, platform"),
        (["--user", "admin", "users", "set", "bob", "--add-group", "dba", "--remove-group", "dba"],
         "cannot add and remove the same group: dba"),
        (["--user", "admin", "users", "set", "admin", "--role", "viewer"],
         "admin is the only admin; make someone else admin first"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(eim, args: list[str], message: str) -> None:
    result = eim(*args, ok=False)
    assert (result.status, result.out, result.err) == (2, "", f"eim: {message}\n"), str(result)


def test_an_unknown_verb_is_one_line_and_exit_2(eim) -> None:
    result = eim("users", "promote", "bob", ok=False)
    assert result.status == 2 and result.out == "" and len(result.err.splitlines()) == 1
    # argparse quotes the choices differently across Python versions; the gist is what matters.
    assert result.err.startswith("eim: argument list|add|set|retire|show|whoami: invalid choice: 'promote'")


def test_a_bad_default_role_is_reported_in_one_line(eim) -> None:
    result = eim("list", ok=False, env={"EIM_DEFAULT_ROLE": "boss"})
    assert (result.status, result.err) == (2, "eim: unknown role 'boss'; use one of: viewer, responder, "
                                              "shift_lead, admin\n")


def test_the_default_role_comes_from_config_toml(eim, tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[access]\ndefault_role = "viewer"\n', encoding="utf-8")
    key = eim.new()
    refused = eim("--user", "stranger", "ack", key, ok=False, env={"EIM_CONFIG": str(config)})
    assert (refused.status, refused.err) == (2, "eim: acknowledging INC-000001 needs the responder or shift lead "
                                                "or admin role; stranger is a viewer\n")
