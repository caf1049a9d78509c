"""`eim users set --notify`, `eim users show`, `eim groups set|show` on both backends: channels
stored as given, shown with their secrets masked, bad URLs and unknown owners refused in one line
with nothing written, and only the person themself or an admin may change them."""

from __future__ import annotations

MAIL = "mailto://eim:hunter2@smtp.example.com?to=bob@example.com"


def test_a_person_sets_their_channels_and_sees_them_masked(eim_on) -> None:
    done = eim_on("--user", "bob", "users", "set", "bob", "--notify", MAIL, "--notify", "ntfy://bob-oncall")
    assert "hunter2" not in done.out and "mailto://eim:****@smtp.example.com" in done.out
    shown = eim_on("users", "show", "bob", "--json").json
    assert shown["notify"] == ["mailto://eim:****@smtp.example.com?to=bob@example.com", "ntfy://bob-oncall"]
    text = eim_on("users", "show", "bob").out
    assert "hunter2" not in text and "ntfy://bob-oncall" in text
    eim_on("--user", "bob", "users", "set", "bob", "--notify", "")
    assert eim_on("users", "show", "bob", "--json").json["notify"] == []


def test_bad_urls_and_unknown_owners_are_refused_and_nothing_is_written(eim_on) -> None:
    eim_on("--user", "bob", "users", "set", "bob", "--notify", "ntfy://bob-oncall")
    bad = eim_on("--user", "bob", "users", "set", "bob", "--notify", "ntfy://ok", "--notify", "bogus://bob:pw@x",
                 ok=False)
    assert bad.status == 2 and len(bad.err.splitlines()) == 1 and "not a notification URL" in bad.err
    assert ":pw@" not in bad.err
    assert eim_on("users", "show", "bob", "--json").json["notify"] == ["ntfy://bob-oncall"]
    nobody = eim_on("--user", "admin", "groups", "set", "no-such-group", "--notify", "ntfy://x", ok=False)
    assert nobody.status == 2 and "no group 'no-such-group'" in nobody.err
    missing = eim_on("users", "show", "nobody", ok=False)
    assert missing.status == 2 and "no user 'nobody'" in missing.err


def test_only_the_person_or_an_admin_changes_channels(eim_on) -> None:
    # A second admin (on SQLite, from now on roles count; on PostgreSQL they always do). Not "root":
    # on a shared server that name is a superuser role, which eim refuses to manage.
    eim_on("--user", "admin", "users", "add", "dana", "--role", "admin")
    refused = eim_on("--user", "alice", "users", "set", "bob", "--notify", "ntfy://x", ok=False)
    assert refused.status == 2 and "admin" in refused.err
    eim_on("--user", "dana", "users", "set", "bob", "--notify", "ntfy://by-admin")
    eim_on("--user", "alice", "users", "set", "alice", "--notify", "ntfy://alice")
    assert eim_on("users", "show", "bob", "--json").json["notify"] == ["ntfy://by-admin"]


def test_a_group_channel_is_set_and_shown_masked(eim_on) -> None:
    slack = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#netops"
    eim_on("--user", "admin", "groups", "set", "network-ops", "--notify", slack)
    shown = eim_on("groups", "show", "network-ops", "--json").json
    assert shown["shift_lead"] == "dmitri" and "alice" in shown["members"]
    assert len(shown["notify"]) == 1 and "TIiajkdnlazkcOXrIdevi7FQ" not in shown["notify"][0]
    assert shown["notify"][0].endswith("#netops")
