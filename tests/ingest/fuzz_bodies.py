"""Hypothesis strategies for request bodies: real payloads mutated, and plain hostile bytes.

A body starts from what monitoring systems really send (the captured Alertmanager webhooks, the
PagerDuty example, eim's generic event) and is mutated the way broken senders and attackers do:
keys dropped, values of the wrong type, huge strings, every Unicode plane, NUL and lone surrogates,
numbers as strings and strings as numbers, nesting thousands deep, integers of thousands of
digits, NaN, duplicate keys. Then it is written as JSON — or the bytes are damaged afterwards (cut
short, not UTF-8, a BOM, another encoding). Most mutated bodies are refused; many still hold
alerts, so both the refusal and the processing paths get hostile input.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from .samples import am_alert, am_payload, generic_event, pd_event, raw

ENDPOINTS = {
    "alertmanager": "/api/v1/alertmanager",
    "pagerduty": "/api/v1/pagerduty",
    "generic": "/api/v1/events",
}

SEEDS: dict[str, list[Any]] = {
    "alertmanager": [
        json.loads(raw("alertmanager_firing.json")),
        json.loads(raw("alertmanager_resolved.json")),
        json.loads(am_payload(am_alert(), am_alert("HighLoad", "web01:9100", "77aa", status="resolved"))),
    ],
    "pagerduty": [
        json.loads(raw("pagerduty_trigger.json")),
        json.loads(pd_event("resolve", "samplekeyhere")),
        json.loads(pd_event("acknowledge", "samplekeyhere")),
        json.loads(pd_event(dedup_key=None, custom_details={"free space": "1%", "nested": {"a": [1, 2]}})),
    ],
    "generic": [
        json.loads(generic_event()),
        json.loads(generic_event(dedup_key="backup:fs-01", severity="warning", labels={"team": "web"},
                                 started_at="2026-11-26T08:50:00Z", reporter={"name": "Synthetic checks"})),
        json.loads(generic_event(dedup_key="backup:fs-01", status="resolved", ended_at="2026-11-26T09:10:00Z")),
        json.loads(generic_event(service="checkout-web", impact=1, urgency=2)),
    ],
}

_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)  # every plane, lone surrogates and NUL included
_HOSTILE_STRINGS = st.sampled_from([
    "", " ", "\x00", "a\x00b", "\ud800", "\udfff x", "\ufeff", "\u202e", "🔥" * 50, "x" * 20_000,
    "null", "true", "4", "1e999", "-0", "NaN", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59",
    "2026-02-30T00:00:00Z", "2026-11-26 09:00:00+0000", "2026-11-26T09:00:00.123456789123456789Z",
    "٢٠٢٦-١١-٢٦T09:00:00Z", "firing", "resolved", "trigger", "RESOLVE", "critical", "CRITICAL", "{{ .Labels }}",
    "{alertname}", "{0}", "%s", "\n\r\t", "<script>", "[bold]x[/]", "../../etc/passwd", "' OR 1=1 --",
])
_NUMBERS = st.one_of(
    st.integers(), st.integers(min_value=-(10**30), max_value=10**30), st.floats(allow_nan=True),
    st.sampled_from([0, 1, 2, 3, 4, -1, 1.0, 4.0, 10**19, 2**63, -(2**63) - 1]),
)


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


_SCALARS = st.one_of(st.none(), st.booleans(), _NUMBERS, _TEXT, _HOSTILE_STRINGS)
_VALUES = st.one_of(
    _SCALARS,
    st.lists(_SCALARS, max_size=4),
    st.dictionaries(_TEXT, _SCALARS, max_size=4),
    st.integers(min_value=1, max_value=400).map(_nested),  # JSON can write these; deeper is below
)


@st.composite
def _mutate(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """`value` with some of its parts dropped, replaced, retyped or mutated in turn."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, inner in value.items():
            action = draw(st.sampled_from(["keep", "keep", "keep", "mutate", "mutate", "drop", "replace", "retype"]))
            if action == "drop":
                continue
            if action == "replace":
                out[key] = draw(_VALUES)
            elif action == "retype":
                out[key] = _retyped(inner)
            elif action == "mutate" and depth < 6:
                out[key] = draw(_mutate(inner, depth + 1))
            else:
                out[key] = inner
        for _ in range(draw(st.integers(0, 2))):
            out[draw(st.one_of(_TEXT, _HOSTILE_STRINGS))] = draw(_VALUES)
        return out
    if isinstance(value, list):
        items = [draw(_mutate(v, depth + 1)) if depth < 6 else v for v in value]
        if items and draw(st.booleans()):
            items = items * draw(st.integers(1, 30))  # the same alert many times over
        if draw(st.integers(0, 5)) == 0:
            items.append(draw(_VALUES))
        return items
    return draw(st.one_of(st.just(value), _VALUES, st.just(_retyped(value))))


def _retyped(value: Any) -> Any:
    """The same information in the wrong JSON type: numbers as strings and the other way round."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return [value]
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return list(value.values())
    return 0


def _encode(value: Any, ascii_only: bool) -> bytes:
    text = json.dumps(value, ensure_ascii=ascii_only, allow_nan=True)
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate written raw is not UTF-8: refused


@st.composite
def _damaged(draw: st.DrawFn, body: bytes) -> bytes:
    how = draw(st.sampled_from(["cut", "bom", "latin1", "junk", "nul", "deep", "bigint", "dupkey", "wrap"]))
    if how == "cut":
        return body[: draw(st.integers(0, max(0, len(body) - 1)))]
    if how == "bom":
        return b"\xef\xbb\xbf" + body
    if how == "latin1":
        return body + "é".encode("latin-1")
    if how == "junk":
        return body + draw(st.binary(min_size=1, max_size=20))
    if how == "nul":
        cut = draw(st.integers(0, len(body)))
        return body[:cut] + b"\x00" + body[cut:]
    if how == "deep":
        depth = draw(st.sampled_from([1000, 5000, 100_000]))
        return b'{"alerts": ' + b"[" * depth + b"]" * depth + b"}"
    if how == "bigint":
        return b'{"version": ' + b"9" * draw(st.sampled_from([4301, 50_000])) + b', "title": "x"}'
    if how == "dupkey":
        return body[:-1] + b', "title": 1, "version": 5, "event_action": null}' if body.endswith(b"}") else body
    return b"[" + body + b"]"


@st.composite
def bodies(draw: st.DrawFn, source: str) -> bytes:
    """A body for `source`'s endpoint: mostly a mutated real one, sometimes damaged bytes or noise."""
    kind = draw(st.sampled_from(["mutated"] * 6 + ["seed", "damaged", "json", "bytes"]))
    seed = draw(st.sampled_from(SEEDS[source]))
    if kind == "seed":
        return _encode(seed, draw(st.booleans()))
    if kind == "json":
        return _encode(draw(_VALUES), draw(st.booleans()))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    body = _encode(draw(_mutate(seed)), draw(st.booleans()))
    return draw(_damaged(body)) if kind == "damaged" else body


CONTENT_TYPES = st.sampled_from(
    ["application/json"] * 8
    + ["application/json; charset=utf-8", "text/json", "application/vnd.eim+json", "text/plain", "", "application/xml"]
)
