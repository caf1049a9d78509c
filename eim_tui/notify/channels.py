"""Outbound channels by URL, through apprise: e-mail, Slack, Teams, Mattermost, Matrix, ntfy,
Telegram, JSON webhooks and the rest (https://github.com/caronc/apprise/wiki).

Three things eim needs from a URL: whether it is one apprise can use (`check_url`, for `--check`
and `eim users set --notify`), how to show it without its secret (`mask`), and sending one message
to it with the reason when that fails (`send`). apprise reports failures only in its log, so each
send collects the log records of its own thread; apprise's log never reaches the terminal itself.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_SECRET_PARAMS = re.compile(r"pass|password|token|secret|key|apikey|auth", re.IGNORECASE)
CONNECT_TIMEOUT = 5.0  # seconds: a dead host must not hold a delivery worker for long
READ_TIMEOUT = 10.0


class _ThreadLog(logging.Handler):
    """Keeps apprise's warnings per thread while that thread is sending."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        found = getattr(self.local, "records", None)
        if found is not None and record.levelno >= logging.WARNING:
            found.append(record.getMessage())


_LOG = _ThreadLog()
_apprise_log = logging.getLogger("apprise")
_apprise_log.addHandler(_LOG)
_apprise_log.propagate = False  # its lines carry hosts and details; ours say what matters once
_apprise_log.setLevel(logging.INFO)


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    error: str = ""


def _plugin(url: str):
    import apprise

    _LOG.local.records = []
    try:
        return apprise.Apprise.instantiate(url)
    except Exception:  # noqa: BLE001 - a URL apprise chokes on is simply not usable
        return None
    finally:
        _LOG.local.records = None


def check_url(url: str) -> str | None:
    """None when apprise can use `url`; otherwise what is wrong, without the secret."""
    if not isinstance(url, str) or "://" not in url:
        return f"{mask(str(url))!r} is not a notification URL; write one like mailto://user:pass@host?to=addr"
    if _plugin(url) is None:
        return (f"{mask(url)!r} is not a notification URL apprise can use (an unknown scheme {kind(url)!r}, or a "
                "part missing); see https://github.com/caronc/apprise/wiki")
    return None


def kind(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else "?"


def mask(url: str) -> str:
    """The URL with its secrets replaced by ****: the password, secret-looking query values, and
    the path tokens of schemes that carry their credentials there (Slack, Telegram, …)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "****"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, sep, _ = userinfo.partition(":")
        netloc = f"{user}:****@{host}" if sep else f"{user}@{host}"
    query = urlencode([(k, "****" if _SECRET_PARAMS.search(k) and v else v) for k, v in parse_qsl(parts.query, True)],
                      safe="@:/*")
    path = parts.path
    if parts.scheme.lower() not in ("mailto", "mailtos", "json", "jsons", "xml", "xmls", "form", "forms", "ntfy", "ntfys"):
        # The credentials of most chat services are the host and path: keep a few characters to tell them apart.
        netloc = _shorten(netloc) if "@" not in netloc else netloc
        path = "/".join(_shorten(p) for p in path.split("/"))
    return urlunsplit((parts.scheme, netloc, path, query, parts.fragment))


def _shorten(token: str) -> str:
    return token if len(token) <= 4 or token.startswith("#") else f"{token[:2]}****"


def send(url: str, title: str, body: str) -> SendResult:
    """Send one message; never raises. Blocks up to the timeouts: call it from a worker thread."""
    plugin = _plugin(url)
    if plugin is None:
        return SendResult(False, "not a usable notification URL (check it with eim service --check)")
    for name, value in (("socket_connect_timeout", CONNECT_TIMEOUT), ("socket_read_timeout", READ_TIMEOUT)):
        if getattr(plugin, name, None) is None or getattr(plugin, name) > value:
            setattr(plugin, name, value)
    _LOG.local.records = []
    try:
        ok = bool(plugin.notify(body=body, title=title))
        said = list(_LOG.local.records)
    except Exception as exc:  # noqa: BLE001 - a broken plugin fails this delivery, not the service
        ok, said = False, [f"{type(exc).__name__}: {exc}"]
    finally:
        _LOG.local.records = None
    if ok:
        return SendResult(True)
    return SendResult(False, _reason(said, url))


def _reason(said: list[str], url: str) -> str:
    text = next((s for s in said if s.strip()), "the channel refused the message (no reason given)")
    text = " ".join(text.split())
    # apprise's messages name hosts, not secrets, but a URL echoed back must not leak one.
    parts = urlsplit(url)
    for secret in filter(None, (parts.password, url)):
        text = text.replace(secret, "****")
    return text[:300]
