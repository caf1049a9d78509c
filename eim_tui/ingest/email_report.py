"""An incident report sent by e-mail (RFC 822 / MIME), read with the standard `email` package.

`read_email(raw)` gives the parts a report needs: the subject (decoded), the plain text of the
body (HTML turned to text when there is no plain part), who sent it, when, and whether the sender
marked it urgent. Pure: no store, no clock.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

from eim_tui.domain.errors import ValidationError

MAX_DESCRIPTION = 20_000


@dataclass(frozen=True, slots=True)
class EmailReport:
    subject: str
    body: str
    sender_name: str
    sender_address: str
    sent_at: datetime | None
    urgent: bool


def read_email(raw: bytes) -> EmailReport:
    if not raw.strip():
        raise ValidationError("the message is empty; pipe an RFC 822 e-mail (headers, a blank line, the body)")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not message.keys():
        raise ValidationError("the message has no headers; pipe a whole RFC 822 message (From:, Subject:, …)")
    subject = " ".join(str(message.get("Subject", "") or "").split())
    name, address = _sender(message)
    body = _body_text(message)
    if not subject and not body.strip():
        raise ValidationError("the message has neither a subject nor any text to make an incident of")
    return EmailReport(subject, body[:MAX_DESCRIPTION], name, address, _sent_at(message), _urgent(message))


def _sender(message: EmailMessage) -> tuple[str, str]:
    for header in ("Reply-To", "From", "Sender"):
        raw = message.get(header)
        if raw:
            pairs = [(n, a) for n, a in getaddresses([str(raw)]) if a or n]
            if pairs:
                name, address = pairs[0]
                return name.strip(), address.strip()
    return "", ""


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or wrong charset: read what can be read
        payload = part.get_payload(decode=True) or b""
        text = payload.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        return ""
    if part.get_content_subtype() == "html":
        text = _html_to_text(text)
    return _tidy(text)


def _html_to_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style).*?</\1>", "", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>", "\n", markup)
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def _tidy(text: str) -> str:
    """Line endings made plain and trailing blank lines dropped; quoted signatures are kept."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip()


def _sent_at(message: EmailMessage) -> datetime | None:
    raw = message.get("Date")
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(str(raw))
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return when.astimezone(UTC)


def _urgent(message: EmailMessage) -> bool:
    priority = str(message.get("X-Priority", "")).strip()
    importance = str(message.get("Importance", "") or message.get("Priority", "")).strip().lower()
    return priority[:1] in ("1", "2") or importance in ("high", "urgent")
