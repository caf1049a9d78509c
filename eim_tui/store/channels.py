"""Where people and groups are reached (table `notify_channel`): apprise URLs by owner.

An owner is a user (`app_user`) or an assignment group; setting channels replaces the owner's list
in one go, so `eim users set bob --notify A --notify B` leaves exactly A and B.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from eim_tui.domain.errors import NotFoundError
from eim_tui.store.tables import GroupRow, NotifyChannelRow, UserRow

OWNER_KINDS = ("user", "group")


def check_owner(session: Session, kind: str, name: str) -> None:
    """The owner exists, or a `NotFoundError` saying how to add it."""
    if kind == "user":
        if session.get(UserRow, name) is None:
            raise NotFoundError(f"no user {name!r}; add one with `eim users add {name} --role ROLE`")
    elif kind == "group":
        if session.get(GroupRow, name) is None:
            known = ", ".join(sorted(session.execute(select(GroupRow.name)).scalars()))
            raise NotFoundError(f"no group {name!r}; use one of: {known}")
    else:
        raise ValueError(f"owner kind {kind!r}: use one of {', '.join(OWNER_KINDS)}")


def channels_of(session: Session, kind: str, name: str) -> list[str]:
    rows = session.execute(
        select(NotifyChannelRow.url)
        .where(NotifyChannelRow.owner_kind == kind, NotifyChannelRow.owner_name == name)
        .order_by(NotifyChannelRow.id)
    ).scalars()
    return list(rows)


def set_channels(session: Session, kind: str, name: str, urls: Sequence[str]) -> list[str]:
    """Replace the owner's channels with `urls` (each once, in the order given)."""
    check_owner(session, kind, name)
    session.execute(delete(NotifyChannelRow).where(NotifyChannelRow.owner_kind == kind,
                                                   NotifyChannelRow.owner_name == name))
    wanted = list(dict.fromkeys(urls))
    session.add_all(NotifyChannelRow(owner_kind=kind, owner_name=name, url=url) for url in wanted)
    session.flush()
    return wanted


def channels_by_owner(session: Session, owners: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    """The channels of several owners at once; an owner without any is absent."""
    owners = set(owners)
    if not owners:
        return {}
    names = {name for _, name in owners}
    found: dict[tuple[str, str], list[str]] = {}
    rows = session.execute(
        select(NotifyChannelRow.owner_kind, NotifyChannelRow.owner_name, NotifyChannelRow.url)
        .where(NotifyChannelRow.owner_name.in_(names))
        .order_by(NotifyChannelRow.id)
    )
    for kind, name, url in rows:
        if (kind, name) in owners:
            found.setdefault((kind, name), []).append(url)
    return found


def all_channels(session: Session) -> list[tuple[str, str, str]]:
    """Every (owner kind, owner name, url): what `eim service --check` validates."""
    rows = session.execute(
        select(NotifyChannelRow.owner_kind, NotifyChannelRow.owner_name, NotifyChannelRow.url)
        .order_by(NotifyChannelRow.owner_kind, NotifyChannelRow.owner_name, NotifyChannelRow.id)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def known_names(session: Session) -> tuple[set[str], set[str]]:
    """(user names, group names) in the store."""
    users = set(session.execute(select(UserRow.name)).scalars())
    groups = set(session.execute(select(GroupRow.name)).scalars())
    return users, groups
