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
    assert set(data) == {"window", "days", "since", "min", "candidates"}
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
