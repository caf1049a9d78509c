"""Who is acting: roles and groups looked up in the store, cached briefly, and the user-management use cases.

`Services` owns one `AccessControl` (`svc.access`) and asks it before every change, so the rules
hold whatever the UI does. Roles are cached per process for `ttl` seconds: a role changed in
another process takes effect here within that time; one changed through this process at once.

Identity is not authenticated: it is the OS login or `--user`. The store's roles keep honest
people from mistakes; a team that needs more restricts who can reach the database.

User management is for admins, with one exception so a store can be set up at all: while the
store has no admin, anyone may add or change users (the shipped reference data brings an `admin`).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Sequence

from eim_tui.domain.access import (
    Action,
    UserContext,
    check,
    is_system_actor,
    parse_role,
    system_context,
)
from eim_tui.domain.errors import ValidationError
from eim_tui.domain.model import Role, User
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
    def __init__(self, db: Database, default_role: Role = Role.RESPONDER, ttl: float = DEFAULT_TTL) -> None:
        self.db = db
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
        self.forget(name)
        return user

    def _may_manage(self, session, actor: str) -> None:
        # Bootstrap: a store without any admin lets anyone set users up (and make the first admin).
        if store_users.admin_count(session) == 0:
            return
        if is_system_actor(actor):
            return
        user = store_users.get_user(session, actor)  # the role as stored now, not as cached
        role = self.default_role if user is None else user.role
        check(UserContext(actor, role), [Action.MANAGE_USERS])
