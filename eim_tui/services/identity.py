"""Who is running eim, proven by something that already authenticated them (issue 13).

- SQLite (one person's file): you are your OS login. Naming someone else (`--user`, `EIM_USER`)
  is allowed only on a store file you own: its owner can rewrite the file anyway, so refusing
  would prove nothing, and tests and scripts keep working.
- PostgreSQL: you are the database login you authenticated as (`session_user`), which must be
  an eim user of that name. Naming anyone else is refused. The store's owner (the login that made
  its tables) and superusers may name anyone, for the same reason as on SQLite; members of
  `eim_service` are eim's own processes and act as its system actors.
- SSH, one shared account with a key per person: `eim --ssh-identity bob` from the account's
  `authorized_keys`. Trusted only when eim runs as the account configured for it (`[ssh]
  account`) and sshd started it (`SSH_CONNECTION` set); anywhere else it is refused.

`establish` decides, or raises `PermissionDenied` (one line, exit 2) and nothing is written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import text

from eim_tui.domain.access import is_system_actor
from eim_tui.domain.errors import PermissionDenied
from eim_tui.store import logins
from eim_tui.store import users as store_users
from eim_tui.store.access_install import SERVICE_ROLE, store_owner
from eim_tui.store.engine import Database


@dataclass(frozen=True, slots=True)
class Identity:
    """The eim user acting, and how that was established (for `eim users whoami`)."""

    name: str
    how: str  # "OS login root", "database login bob", "SSH key of bob (account oncall)"
    login: str  # the OS or database login underneath
    owner: bool = False  # the store's owner (or a superuser): may name anyone
    service: bool = False  # eim's own process login (member of eim_service)


@dataclass(frozen=True, slots=True)
class DatabaseLogin:
    login: str
    owner: bool
    service: bool


def database_login(db: Database) -> DatabaseLogin:
    """Who PostgreSQL says this connection is, and what that login is to the store."""
    with db.read() as session:
        login, superuser = session.execute(text(
            "SELECT session_user, rolsuper FROM pg_roles WHERE rolname = session_user")).one()
        owner = store_owner(session.connection())
        service = session.execute(text(
            # Superusers are members of every role as far as pg_has_role goes: not a service login.
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :g) AND NOT "
            "(SELECT rolsuper FROM pg_roles WHERE rolname = session_user) "
            "THEN pg_has_role(session_user, :g, 'MEMBER') ELSE false END"), {"g": SERVICE_ROLE}).scalar()
    owner = bool(superuser) or login == owner
    return DatabaseLogin(login, owner, bool(service) and not owner)


def file_owner(db: Database) -> bool:
    """The SQLite file belongs to the person running eim (root counts: it can write any file)."""
    try:
        return os.geteuid() == 0 or os.stat(db.path).st_uid == os.geteuid()
    except OSError:
        return True  # no file yet: this process is about to make it, so it is theirs


def establish(db: Database, os_login: str, requested: str | None, *, ssh_identity: str | None = None,
              ssh_account: str | None = None, ssh_connection: str | None = None) -> Identity:
    """Who this process acts as; `requested` is `--user` / `EIM_USER` when one was given."""
    if ssh_identity is not None:
        return _ssh(db, os_login, requested, ssh_identity, ssh_account, ssh_connection)
    if db.is_sqlite:
        identity = _sqlite(db, os_login, requested)
    else:
        identity = _postgres(db, requested)
    _not_retired(db, identity)
    return identity


def _sqlite(db: Database, os_login: str, requested: str | None) -> Identity:
    owner = file_owner(db)
    if requested and requested != os_login and not owner:
        raise PermissionDenied(
            f"--user {requested} refused: you are {os_login}, and only the owner of {db.path} may act "
            "as someone else on it"
        )
    name = requested or os_login
    how = f"OS login {os_login}" if name == os_login else f"named by the owner of the store file ({os_login})"
    return Identity(name, how, os_login, owner=owner)


def _postgres(db: Database, requested: str | None) -> Identity:
    found = database_login(db)
    login = found.login
    if found.service:
        if requested and not is_system_actor(requested):
            raise PermissionDenied(
                f"--user {requested} refused: {login} is one of eim's own process logins ({SERVICE_ROLE}), not a person")
        return Identity(requested or "eim", f"eim process login {login}", login, service=True)
    if found.owner:
        name = requested or login
        how = f"database login {login}" if name == login else f"named by the store's owner ({login})"
        return Identity(name, how, login, owner=True)
    if requested and requested != login:
        raise PermissionDenied(f"--user {requested} refused: you are connected as {login}")
    with db.read() as session:
        known = store_users.get_user(session, login) is not None
    if not known:
        raise PermissionDenied(
            f"you are connected as {login}, a database login eim does not know; "
            f"an admin adds you with `eim users add {login} --role ROLE`"
        )
    return Identity(login, f"database login {login}", login)


def _ssh(db: Database, os_login: str, requested: str | None, person: str, account: str | None,
         connection: str | None) -> Identity:
    if not account:
        raise PermissionDenied("--ssh-identity refused: no [ssh] account is configured for it in config.toml")
    if os_login != account or not connection:
        where = "outside an SSH session" if not connection else f"as {os_login}, not the [ssh] account {account}"
        raise PermissionDenied(f"--ssh-identity refused: eim trusts it only when sshd starts it for {account}; "
                               f"this runs {where}")
    if requested and requested != person:
        raise PermissionDenied(f"--user {requested} refused: your SSH key is {person}'s")
    with db.read() as session:
        user = store_users.get_user(session, person)
    if user is None:
        raise PermissionDenied(f"--ssh-identity {person} refused: no such eim user; "
                               "`eim ssh authorized-keys` lists only keys of known users")
    identity = Identity(person, f"SSH key of {person} (account {account})", os_login)
    _not_retired(db, identity)
    return identity


def _not_retired(db: Database, identity: Identity) -> None:
    if identity.service or is_system_actor(identity.name):
        return
    with db.read() as session:
        retired = logins.retired_at(session, identity.name)
    if retired is not None:
        raise PermissionDenied(
            f"{identity.name} was retired on {retired:%Y-%m-%d}; an admin brings them back with "
            f"`eim users set {identity.name} --role ROLE`"
        )
