"""Roles belong to the whole PostgreSQL cluster: two stores' installers (two databases, each
serialised by its own lock only) may alter the same login at once. PostgreSQL then refuses one
with "tuple concurrently updated"; the installer's `_set_login` waits and tries again."""

from __future__ import annotations

import secrets
import threading
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from eim_tui.store import access_install
from tests.conftest import PG_SERVER

pytestmark = pytest.mark.xdist_group("pg-roles")


def test_a_login_altered_by_another_database_at_the_same_instant_is_set_after_it(postgres) -> None:
    store = create_engine(postgres.with_store(), poolclass=NullPool)
    other = create_engine(f"{PG_SERVER}/postgres", poolclass=NullPool)
    name = f"race_{secrets.token_hex(4)}"
    with other.begin() as conn:
        conn.execute(text(f"CREATE ROLE {name} NOLOGIN"))
    held = threading.Event()

    def hold() -> None:  # another database's installer, mid-transaction on the same role
        with other.begin() as conn:
            conn.execute(text(f"ALTER ROLE {name} NOLOGIN"))
            held.set()
            time.sleep(0.5)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        with store.begin() as conn:
            access_install._set_login(conn, {"n": name, "r": "responder", "s": False, "a": True})
        holder.join()
        with other.connect() as conn:
            assert conn.execute(text("SELECT rolcanlogin FROM pg_roles WHERE rolname = :n"), {"n": name}).scalar()
            assert conn.execute(text("SELECT pg_has_role(:n, 'eim_responder', 'MEMBER')"), {"n": name}).scalar()
    finally:
        holder.join()
        with other.begin() as conn:
            conn.execute(text(f"DROP ROLE IF EXISTS {name}"))
        store.dispose()
        other.dispose()
