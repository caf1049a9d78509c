"""OpenSSH public keys as `eim users set NAME --ssh-key '…'` takes them (stdlib only).

A key is checked, not just stored: the type must be one OpenSSH offers, the blob must be base64
and must itself name that type (the first field of the wire format), so a truncated or mangled
paste is refused before anything is written. The fingerprint is the one `ssh-keygen -l` shows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from eim_tui.domain.errors import ValidationError

KEY_TYPES = frozenset({
    "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
})
_COMMENT = re.compile(r"^[\x20-\x7e]{0,200}$")


@dataclass(frozen=True, slots=True)
class PublicKey:
    key_type: str
    data: str  # base64, as in authorized_keys
    comment: str = ""

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256(base64.b64decode(self.data)).digest()
        return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")

    def line(self) -> str:
        return f"{self.key_type} {self.data}" + (f" {self.comment}" if self.comment else "")


# How many length-prefixed fields each key type's blob holds (RFC 4253 6.6, RFC 5656, PROTOCOL.u2f).
_FIELD_COUNT = {
    "ssh-ed25519": 2, "ssh-rsa": 3, "ecdsa-sha2-nistp256": 3, "ecdsa-sha2-nistp384": 3, "ecdsa-sha2-nistp521": 3,
    "sk-ssh-ed25519@openssh.com": 3, "sk-ecdsa-sha2-nistp256@openssh.com": 4,
}


def _wire_fields(blob: bytes) -> list[bytes]:
    """The blob's length-prefixed strings; [] unless they use up every byte exactly."""
    fields, at = [], 0
    while at < len(blob):
        if at + 4 > len(blob):
            return []
        size = int.from_bytes(blob[at:at + 4], "big")
        at += 4
        if at + size > len(blob):
            return []
        fields.append(blob[at:at + size])
        at += size
    return fields


def parse_public_key(text: str) -> PublicKey:
    """`ssh-ed25519 AAAA… comment` → a checked `PublicKey`, or `ValidationError` saying what is wrong."""
    parts = text.strip().split(None, 2)
    hint = "paste one line of a .pub file, e.g. 'ssh-ed25519 AAAAC3… bob@laptop'"
    if len(parts) < 2:
        raise ValidationError(f"that is not an SSH public key; {hint}")
    key_type, data = parts[0], parts[1]
    comment = parts[2].strip() if len(parts) > 2 else ""
    if key_type not in KEY_TYPES:
        raise ValidationError(f"unknown SSH key type {key_type!r}; use one of: {', '.join(sorted(KEY_TYPES))}")
    try:
        blob = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(f"the {key_type} key is not valid base64 (cut short or mangled?); {hint}") from None
    fields = _wire_fields(blob)
    if not fields or fields[0] != key_type.encode() or len(fields) != _FIELD_COUNT[key_type] or (
            key_type.endswith("ed25519") and len(fields[1]) != 32) or (
            key_type.startswith("ecdsa") and fields[1] != key_type.rsplit("-", 1)[1].encode()):
        raise ValidationError(f"the key data is not a whole {key_type} key (cut short or mangled?); {hint}")
    if not _COMMENT.match(comment):
        raise ValidationError("the key's comment must be printable ASCII, at most 200 characters")
    return PublicKey(key_type, data, comment)
