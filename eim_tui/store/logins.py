"""A person's way in: retirement, SSH keys, and their PostgreSQL login (tables `app_user.retired_at`,
`user_ssh_key`; the database function `eim_set_login` that store/access_install.py installs)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from eim_tui.domain.errors import PermissionDenied, ValidationError
from eim_tui.domain.ssh_keys import PublicKey
from eim_tui.store.tables import UserRow, UserSshKeyRow


def retired_at(session: Session, name: str) -> datetime | None:
    return session.execute(select(UserRow.retired_at).where(UserRow.name == name)).scalar()


def set_retired(session: Session, name: str, at: datetime | None) -> None:
    row = session.get(UserRow, name, with_for_update=True)
    if row is not None:
        row.retired_at = at
        session.flush()


def add_key(session: Session, name: str, key: PublicKey, at: datetime) -> None:
    other = session.get(UserSshKeyRow, key.fingerprint)
    if other is not None:
        raise ValidationError(f"that key ({key.fingerprint}) is already {other.user_name}'s; one key, one person")
    session.add(UserSshKeyRow(fingerprint=key.fingerprint, user_name=name, key_type=key.key_type,
                              key_data=key.data, comment=key.comment, added_at=at))
    session.flush()


def remove_keys(session: Session, name: str) -> int:
    return session.execute(delete(UserSshKeyRow).where(UserSshKeyRow.user_name == name)).rowcount


def keys(session: Session, name: str | None = None) -> list[tuple[str, PublicKey]]:
    """(user, key) of current (not retired) users, by user then fingerprint."""
    query = (select(UserSshKeyRow).join(UserRow, UserRow.name == UserSshKeyRow.user_name)
             .where(UserRow.retired_at.is_(None)).order_by(UserSshKeyRow.user_name, UserSshKeyRow.fingerprint))
    if name is not None:
        query = query.where(UserSshKeyRow.user_name == name)
    return [(r.user_name, PublicKey(r.key_type, r.key_data, r.comment)) for r in session.execute(query).scalars()]


def set_database_login(session: Session, name: str, role: str, security: bool, active: bool) -> None:
    """PostgreSQL: create the login role if needed and put it in the group roles that match its eim
    role and groups (LOGIN revoked when not `active`), in this transaction."""
    try:
        with session.begin_nested():
            session.execute(text("SELECT eim_set_login(:n, :r, :s, :a)"),
                            {"n": name, "r": role, "s": security, "a": active})
    except DBAPIError as exc:
        code = getattr(exc.orig, "sqlstate", None)
        detail = str(getattr(getattr(exc.orig, "diag", None), "message_primary", "") or "").strip()
        if code == "42501":  # insufficient privilege, or a role eim does not manage
            if "function" in detail and "permission denied" in detail:
                raise PermissionDenied(
                    "your database login is not in eim_admin, so it cannot manage logins; "
                    "the store's owner runs `eim users set YOU --role admin`") from None
            raise PermissionDenied(f"{detail}; nothing was changed") from None
        if code == "42883":  # no such function: the store's roles were never installed
            raise PermissionDenied("this store's database roles are not installed; its owner runs `eim db upgrade`") from None
        raise
