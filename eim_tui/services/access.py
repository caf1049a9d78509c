"""Who is acting: roles and groups looked up in the store, cached briefly, and the user-management use cases.

`Services` owns one `AccessControl` (`svc.access`) and asks it before every change, so the rules
hold whatever the UI does. Roles are cached per process for `ttl` seconds: a role changed in
another process takes effect here within that time; one changed through this process at once.

Who the actor is has been established before (services/identity.py: the OS login on SQLite, the
database login on PostgreSQL, or an SSH key). On PostgreSQL the users managed here are also
database logins: adding or changing a user moves its login between the group roles the database
enforces (store/access_install.py), retiring one revokes LOGIN, all in the same transaction.

User management is for admins. On SQLite, while the store has no admin, anyone may add or change
users (the shipped reference data brings an `admin`); a PostgreSQL store is never open like that:
its owner is its first admin.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import datetime

from eim_tui.domain.access import (
    SECURITY_GROUP,
    Action,
    UserContext,
    check,
    is_system_actor,
    parse_role,
    system_context,
)
from eim_tui.domain.clock import Clock, SystemClock
from eim_tui.domain.errors import NotFoundError, ValidationError
from eim_tui.domain.model import Role, User
from eim_tui.domain.ssh_keys import PublicKey, parse_public_key
from eim_tui.store import change_feed, confidential, logins
from eim_tui.store import users as store_users
from eim_tui.store.engine import Database

DEFAULT_TTL = 5.0
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")


def check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise ValidationError(
            f"{name!r} is not a user name; use letters, digits and . _ @ + - (at most 100, no spaces)"
        )
    return name


class AccessControl:
    def __init__(self, db: Database, default_role: Role = Role.RESPONDER, ttl: float = DEFAULT_TTL,
                 clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.default_role = default_role
        self.ttl = ttl
        self._cache: dict[str, tuple[float, UserContext]] = {}
        self._lock = threading.Lock()

    # --- who is this ---------------------------------------------------------------------------

    def context(self, name: str) -> UserContext:
        """The user's role and groups; a login the store does not know gets the default role."""
        if is_system_actor(name):
            return system_context(name)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(name)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        with self.db.read() as session:
            user = store_users.get_user(session, name)
        if user is None:
            context = UserContext(name, self.default_role, frozenset())
        else:
            context = UserContext(name, user.role, frozenset(user.groups))
        with self._lock:
            self._cache[name] = (now, context)
        return context

    def forget(self, name: str | None = None) -> None:
        with self._lock:
            if name is None:
                self._cache.clear()
            else:
                self._cache.pop(name, None)

    def authorize(self, actor: str, actions: Iterable[Action], what: str = "") -> UserContext:
        """Refuse (`PermissionDenied`, naming the role needed) unless the actor's role allows every action."""
        context = self.context(actor)
        check(context, actions, what)
        return context

    # --- managing users ------------------------------------------------------------------------

    def list_users(self) -> list[User]:
        with self.db.read() as session:
            return store_users.list_users(session)

    def get_user(self, name: str) -> User | None:
        with self.db.read() as session:
            return store_users.get_user(session, name)

    def add_user(self, actor: str, name: str, role: Role | str, groups: Sequence[str] = (),
                 full_name: str = "", email: str = "") -> User:
        name = check_name(name)
        role = role if isinstance(role, Role) else parse_role(role)
        with self.db.write() as session:
            self._may_manage(session, actor)
            user = store_users.add_user(session, name, role, groups, full_name.strip(), email.strip())
            self._database_login(session, user)
        self.forget(name)
        return user

    def set_user(self, actor: str, name: str, role: Role | str | None = None, add_groups: Sequence[str] = (),
                 remove_groups: Sequence[str] = ()) -> User:
        role = None if role is None else role if isinstance(role, Role) else parse_role(role)
        overlap = set(add_groups) & set(remove_groups)
        if overlap:
            raise ValidationError(f"cannot add and remove the same group: {', '.join(sorted(overlap))}")
        if role is None and not add_groups and not remove_groups:
            raise ValidationError("nothing to change; say --role ROLE, --add-group G and/or --remove-group G")
        with self.db.write() as session:
            self._may_manage(session, actor)
            before = store_users.get_user(session, name)
            if (before is not None and before.role is Role.ADMIN and role not in (None, Role.ADMIN)
                    and store_users.admin_count(session) == 1):
                raise ValidationError(f"{name} is the only admin; make someone else admin first")
            user = store_users.set_user(session, name, role, add_groups, remove_groups)
            if role is not None:
                logins.set_retired(session, name, None)  # a role given again brings a retired user back
            self._database_login(session, user, active=logins.retired_at(session, name) is None)
        self.forget(name)
        return user

    def retire_user(self, actor: str, name: str) -> datetime:
        """`name` may no longer use eim: refused at the door, SSH keys no longer listed, and on
        PostgreSQL its login revoked. The timeline keeps everything they did."""
        with self.db.write() as session:
            self._may_manage(session, actor)
            user = store_users.get_user(session, name)
            if user is None:
                raise NotFoundError(f"no user {name!r}; see `eim users list`")
            if user.role is Role.ADMIN and store_users.admin_count(session) == 1:
                raise ValidationError(f"{name} is the only admin; make someone else admin first")
            if name == actor:
                raise ValidationError("you cannot retire yourself; ask another admin")
            at = self.clock.now()
            logins.set_retired(session, name, at)
            self._database_login(session, user, active=False)
        self.forget(name)
        return at

    def retired_at(self, name: str) -> datetime | None:
        with self.db.read() as session:
            return logins.retired_at(session, name)

    def _database_login(self, session, user: User, active: bool = True) -> None:
        change_feed.announce(session, change_feed.ACCESS)  # running TUIs read the roles again (PostgreSQL)
        if self.db.dialect == "postgresql" and not is_system_actor(user.name):
            logins.set_database_login(session, user.name, user.role.value, SECURITY_GROUP in user.groups, active)

    def hidden_payloads(self, viewer: str, payload_ids: Sequence[int]) -> set[int]:
        """The raw alert bodies `viewer` may not read: those of confidential incidents, unless they
        are in the security group (`eim payloads`)."""
        if self.context(viewer).sees_confidential or not payload_ids:
            return set()
        with self.db.read() as session:
            return confidential.confidential_payloads(session, payload_ids)

    # --- SSH keys ------------------------------------------------------------------------------

    def add_ssh_key(self, actor: str, name: str, key_text: str) -> PublicKey:
        key = parse_public_key(key_text)  # a malformed key: refused before anything is opened
        with self.db.write() as session:
            self._may_manage(session, actor)
            if store_users.get_user(session, name) is None:
                raise NotFoundError(f"no user {name!r}; add one with `eim users add {name} --role ROLE`")
            logins.add_key(session, name, key, self.clock.now())
        return key

    def clear_ssh_keys(self, actor: str, name: str) -> int:
        with self.db.write() as session:
            self._may_manage(session, actor)
            return logins.remove_keys(session, name)

    def ssh_keys(self, name: str | None = None) -> list[tuple[str, PublicKey]]:
        with self.db.read() as session:
            return logins.keys(session, name)

    def _may_manage(self, session, actor: str) -> None:
        # Bootstrap (SQLite only): a store without any admin lets anyone set users up (and make the
        # first admin). A PostgreSQL store's owner is its first admin (store/access_install.py).
        if self.db.is_sqlite and store_users.admin_count(session) == 0:
            return
        if is_system_actor(actor):
            return
        user = store_users.get_user(session, actor)  # the role as stored now, not as cached
        role = self.default_role if user is None else user.role
        check(UserContext(actor, role), [Action.MANAGE_USERS])
