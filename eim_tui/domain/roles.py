"""The four eim roles, and reading one from text (config.toml, `--role`).

Apart from `model` so that reading the configuration (which every command does, `eim status`
within 100 ms) need not load the whole incident model."""

from __future__ import annotations

from enum import StrEnum

from eim_tui.domain.errors import ValidationError


class Role(StrEnum):
    VIEWER = "viewer"
    RESPONDER = "responder"
    SHIFT_LEAD = "shift_lead"
    ADMIN = "admin"


def parse_role(text: str) -> Role:
    value = text.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return Role(value)
    except ValueError:
        raise ValidationError(f"unknown role {text!r}; use one of: {', '.join(r.value for r in Role)}") from None
