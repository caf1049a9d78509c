"""`eim patterns`: the candidates as text and as the documented JSON; bad --window / --min refused
in one line with status 2."""

from __future__ import annotations

import pytest

TITLES = ["Tunnel drops for Berlin office", "tunnel drops again at night", "Tunnel drops every 5 minutes",
          "Tunnel drops during backup window", "Tunnel flapping to Paris", "Printer jams on floor 3"]
REASON = '5 incidents · vpn · network/vpn · "tunnel drops" in 4 titles · last 30 days'
KEYS = ["INC-000001", "INC-000002", "INC-000003", "INC-000004", "INC-000005"]
SHAPE = {"rank", "score", "count", "anchor", "category", "subcategory", "symptom", "phrase", "phrase_titles",
         "worst_severity", "first_reported", "last_reported", "reason", "incidents"}


def test_patterns_as_json_and_text(eim) -> None:
    for title in TITLES:
        eim("new", "--title", title, "--impact", "2", "--urgency", "2", "--service", "vpn",
            "--category", "network", "--subcategory", "vpn")
    data = eim("patterns", "--json").json
    assert set(data) == {"window", "days", "since", "min", "newest", "candidates"}
    [found] = data["candidates"]
    assert set(found) == SHAPE
    assert found["reason"] == REASON and found["incidents"] == KEYS
    assert found["anchor"] == {"kind": "service", "name": "vpn"} and found["count"] == 5
    text = eim("patterns", "--window", "2w").out
    assert text.splitlines() == [f"  1. {REASON.replace('30 days', '2 weeks')}", "     " + " ".join(KEYS)]
    eim("link", "INC-000001", "--problem", "PRB-000001")
    assert eim("patterns", "--min", "5").out.startswith("no recurring patterns of 5 or more incidents")
    assert eim("patterns", "--min", "4", "--json").json["candidates"][0]["count"] == 4


@pytest.mark.parametrize(("args", "said"), [
    (["--window", "30x"], "'30x' is not a window; use days or weeks, e.g. 30d or 6w"),
    (["--window", "0d"], "'0d' is not a window"),
    (["--min", "1"], "'1' is too small"),
    (["--min", "five"], "'five' is not a whole number"),
])
def test_bad_window_or_min_is_one_line_and_status_2(eim, args, said) -> None:
    result = eim("patterns", *args, ok=False)
    assert result.status == 2 and result.out == ""
    assert len(result.err.splitlines()) == 1 and said in result.err and "Traceback" not in result.err


def test_imported_history_an_empty_window_says_where_it_is_and_all_finds_it(eim, tmp_path) -> None:
    from tests.importing.conftest import event, write_log

    kind = {"category": "Category 26", "subcategory": "Subcategory 174", "u_symptom": "Symptom 491"}
    log = write_log(tmp_path / "log.csv", [
        event(f"INC00001{i:02d}", "New", 0, f"{i}/3/2016 09:05", opened_at=f"{i}/3/2016 09:00",
              location="Location 143", **kind) for i in range(1, 7)])
    eim("import", "servicenow", str(log))
    lines = eim("patterns").out.splitlines()
    assert lines == ["no recurring patterns of 5 or more incidents in the last 30 days",
                     ("nothing was reported in that window: the newest incident is from 2016-03-06; "
                      "--window all looks at the whole history")]
    data = eim("patterns", "--window", "all", "--json").json
    assert (data["window"], data["days"], data["since"]) == ("all", None, None)
    assert [c["reason"] for c in data["candidates"]] == [
        "6 incidents · at Location 143 · Category 26/Subcategory 174/Symptom 491 · 2016-03-01 to 2016-03-06"]
    assert eim("patterns", "--window", "all").out.startswith("  1. 6 incidents · at Location 143 · ")
