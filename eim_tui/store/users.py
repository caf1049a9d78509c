"""Users, their role and their groups in the store (tables `app_user`, `group_member`)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from eim_tui.domain.errors import NotFoundError, ValidationError
from eim_tui.domain.model import Role, User
from eim_tui.store.tables import GroupMemberRow, GroupRow, UserRow


def _user(row: UserRow, groups: Iterable[str]) -> User:
    try:
        role = Role(row.role)
    except ValueError:  # a hand-edited row: treat an unknown role as the least one
        role = Role.VIEWER
    return User(name=row.name, full_name=row.full_name, email=row.email, role=role, groups=tuple(sorted(groups)))


def groups_of(session: Session, name: str) -> list[str]:
    return sorted(session.execute(select(GroupMemberRow.group_name).where(GroupMemberRow.user_name == name)).scalars())


def get_user(session: Session, name: str) -> User | None:
    row = session.get(UserRow, name)
    return None if row is None else _user(row, groups_of(session, name))


def list_users(session: Session) -> list[User]:
    members: dict[str, list[str]] = {}
    for group, user in session.execute(select(GroupMemberRow.group_name, GroupMemberRow.user_name)):
        members.setdefault(user, []).append(group)
    rows = session.execute(select(UserRow).order_by(UserRow.name)).scalars()
    return [_user(r, members.get(r.name, [])) for r in rows]


def admin_count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(UserRow).where(UserRow.role == Role.ADMIN.value)).scalar_one()


def group_names(session: Session) -> list[str]:
    return sorted(session.execute(select(GroupRow.name)).scalars())


def _check_groups(session: Session, groups: Iterable[str]) -> None:
    known = set(group_names(session))
    for group in groups:
        if group not in known:
            raise ValidationError(f"unknown group {group!r}; use one of: {', '.join(sorted(known))}")


def add_user(session: Session, name: str, role: Role, groups: Iterable[str], full_name: str = "", email: str = "") -> User:
    groups = list(dict.fromkeys(groups))
    if session.get(UserRow, name) is not None:
        raise ValidationError(f"user {name!r} already exists; change it with `eim users set {name} …`")
    _check_groups(session, groups)
    session.add(UserRow(name=name, full_name=full_name, email=email, role=role.value))
    session.flush()
    for group in groups:
        session.add(GroupMemberRow(group_name=group, user_name=name))
    session.flush()
    return get_user(session, name)  # type: ignore[return-value]


def set_user(
    session: Session, name: str, role: Role | None = None, add_groups: Iterable[str] = (),
    remove_groups: Iterable[str] = (),
) -> User:
    row = session.get(UserRow, name, with_for_update=True)
    if row is None:
        raise NotFoundError(f"no user {name!r}; add one with `eim users add {name} --role ROLE`")
    add_groups, remove_groups = list(dict.fromkeys(add_groups)), list(dict.fromkeys(remove_groups))
    _check_groups(session, [*add_groups, *remove_groups])
    current = set(groups_of(session, name))
    for group in remove_groups:
        if group not in current:
            raise ValidationError(f"{name} is not in group {group!r}; their groups: {', '.join(sorted(current)) or 'none'}")
    if role is not None:
        row.role = role.value
    for group in add_groups:
        if group not in current:
            session.add(GroupMemberRow(group_name=group, user_name=name))
    if remove_groups:
        session.execute(
            delete(GroupMemberRow).where(GroupMemberRow.user_name == name, GroupMemberRow.group_name.in_(remove_groups))
        )
    session.flush()
    return get_user(session, name)  # type: ignore[return-value]
