"""What PostgreSQL itself enforces for eim: group roles, grants, row-level security (issue 13).

`install(db)` is run by `eim db upgrade` (and when a store is first made). It is idempotent and
works from the tables that exist at the time (every table of `Base.metadata` found in the
database), so tables that later migrations add are covered by the next upgrade without a change
here. It needs the store's owner (the login that made the tables) with CREATEROLE, or a superuser.

What it sets up:

- Group roles `eim_viewer`, `eim_responder`, `eim_shift_lead`, `eim_admin` (one per eim role),
  `eim_service` (eim's own processes: `eim service`, `eim ingest`) and `eim_security` (the
  security group: the only people who read confidential incidents). All NOLOGIN.
- Every eim role reads every table. Viewers only read. Responders, shift leads, admins and the
  service write the working tables; users, groups and reference data only admins (and the owner);
  the timelines (`timeline_event`, `problem_event`) are INSERT and SELECT only for every eim role: nobody but the
  owner can UPDATE, DELETE or TRUNCATE it. (`chain_head` must be updated by every append; a
  rewritten head is caught by `eim audit verify`.)
- Row-level security on `incident` and on every table with an `incident_id` (timeline, notes,
  alerts, watches, outbox, and whatever later migrations add), and on `inbound_payload` (the raw
  alert bodies): a confidential incident's rows are visible only to `eim_security` and
  `eim_service` members (and the owner, to whom RLS does not apply). The decision for a child row
  asks a SECURITY DEFINER function whether its incident is confidential, so a hidden parent cannot
  make its children visible.
- `eim_set_login(login, role, security, active)`: the one way eim admins manage database logins
  (create the login role, move it between the group roles, grant or revoke `eim_security`, revoke
  LOGIN on retirement) without holding CREATEROLE themselves. EXECUTE for `eim_admin` only; it
  refuses superusers, roles that can create roles or bypass RLS, the owner and eim's own groups.
- `search_state` (whether the full-text triggers index each change) is read by every eim role
  and written by nobody but the owner: a responder with psql who turned it off would leave every
  later change unfindable. Only bulk loads (`eim import`, `eim demo`) pause it, inside their own
  transaction, and on a store with roles those are the owner's work already (they also set the
  incident number sequence, which no eim role may). A deferred constraint trigger refuses any
  commit that leaves it off or removes its row, so a pause cannot outlive the transaction that
  made it — the owner's included (store/search.py).
- The owner's login becomes an eim admin (`app_user`), so a store is never open to "anyone may".
"""

from __future__ import annotations

import time

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from eim_tui.domain.access import SYSTEM_ACTORS
from eim_tui.domain.errors import PermissionDenied
from eim_tui.domain.model import Role
from eim_tui.store import placeholders
from eim_tui.store.engine import Database
from eim_tui.store.tables import Base

GROUP_ROLES: dict[Role, str] = {
    Role.VIEWER: "eim_viewer",
    Role.RESPONDER: "eim_responder",
    Role.SHIFT_LEAD: "eim_shift_lead",
    Role.ADMIN: "eim_admin",
}
SERVICE_ROLE = "eim_service"
SECURITY_ROLE = "eim_security"
ALL_ROLES = (*GROUP_ROLES.values(), SERVICE_ROLE, SECURITY_ROLE)
WRITERS = ("eim_responder", "eim_shift_lead", "eim_admin", SERVICE_ROLE)

# Insert-and-read only for every eim role: the record itself.
APPEND_ONLY = frozenset({"timeline_event", "problem_event"})
# Who may use eim, and the reference data `eim db upgrade` brings: written by admins only, so a
# responder with psql cannot make themselves admin or join the security group.
ADMIN_WRITTEN = frozenset({
    "app_user", "group_member", "user_ssh_key", "category", "subcategory", "service",
    "configuration_item", "assignment_group", "sla_policy", "service_sla", "routing_rule", "escalation_rule",
})

# Written by nobody but the owner (see the module docstring).
OWNER_WRITTEN = frozenset({"search_state"})

_SEARCH_STATE = """
CREATE OR REPLACE FUNCTION eim_search_state_kept_on() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$ BEGIN
  IF (SELECT indexing FROM search_state WHERE id = 1) IS NOT TRUE THEN
    RAISE EXCEPTION 'the full-text index cannot be left paused: a bulk load turns it on again before it commits';
  END IF;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION eim_search_state_kept_on() FROM PUBLIC;
DROP TRIGGER IF EXISTS search_state_on_at_commit ON search_state;
CREATE CONSTRAINT TRIGGER search_state_on_at_commit AFTER INSERT OR UPDATE OR DELETE ON search_state
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION eim_search_state_kept_on();
"""

_FUNCTIONS = f"""
-- SECURITY INVOKER on purpose: it asks about the role running the query (current_user).
CREATE OR REPLACE FUNCTION eim_sees_confidential() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
  SELECT pg_has_role(current_user, '{SECURITY_ROLE}', 'MEMBER')
      OR pg_has_role(current_user, '{SERVICE_ROLE}', 'MEMBER')
$$;

-- Would row-level security hide confidential incidents from the role running the query? The
-- security group and the service read them; so do the roles RLS does not apply to (the store's
-- owner and its members, superusers, BYPASSRLS): those get no placeholders (no duplicates).
CREATE OR REPLACE FUNCTION eim_reads_confidential() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
  SELECT eim_sees_confidential()
      OR pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = to_regclass('incident')), 'USAGE')
      OR coalesce((SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user), false)
$$;

CREATE OR REPLACE FUNCTION eim_confidential_incident(number integer) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT coalesce((SELECT confidential FROM incident WHERE id = number), false)
$$;

CREATE OR REPLACE FUNCTION eim_confidential_payload(payload integer) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT EXISTS (SELECT 1 FROM alert a JOIN incident i ON i.id = a.incident_id
                 WHERE a.payload_id = payload AND i.confidential)
$$;

-- The chain's links (numbers and hashes, never content) for everyone, so a login that cannot
-- read confidential events can still prove the chain is unbroken (eim audit verify).
CREATE OR REPLACE FUNCTION eim_chain_links(after integer, size integer)
RETURNS TABLE (seq integer, prev_hash varchar, hash varchar)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT t.seq, t.prev_hash, t.hash FROM timeline_event t WHERE t.seq > after ORDER BY t.seq LIMIT size
$$;

CREATE OR REPLACE FUNCTION eim_set_login(login text, eim_role text, security boolean, active boolean)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
  target pg_roles%ROWTYPE;
  grp text;
  wanted text := 'eim_' || eim_role;
BEGIN
  IF wanted NOT IN ('eim_viewer', 'eim_responder', 'eim_shift_lead', 'eim_admin') THEN
    RAISE EXCEPTION 'unknown eim role %', eim_role USING ERRCODE = '22023';
  END IF;
  IF login LIKE 'eim\\_%' OR login LIKE 'pg\\_%' OR login = current_user THEN
    RAISE EXCEPTION 'the database role % is not a person''s login', login USING ERRCODE = '42501';
  END IF;
  SELECT * INTO target FROM pg_roles WHERE rolname = login;
  IF NOT FOUND THEN
    BEGIN
      EXECUTE format('CREATE ROLE %I LOGIN', login);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;  -- made meanwhile by another database's admin (roles belong to the whole cluster)
    END;
    SELECT * INTO target FROM pg_roles WHERE rolname = login;
  END IF;
  IF target.rolsuper OR target.rolcreaterole OR target.rolbypassrls THEN
    RAISE EXCEPTION 'the database role % has powers eim does not manage (superuser, createrole or bypassrls)',
      login USING ERRCODE = '42501';
  END IF;
  FOREACH grp IN ARRAY ARRAY['eim_viewer', 'eim_responder', 'eim_shift_lead', 'eim_admin'] LOOP
    IF grp <> wanted AND EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                                 WHERE g.rolname = grp AND m.member = target.oid) THEN
      EXECUTE format('REVOKE %I FROM %I', grp, login);
    END IF;
  END LOOP;
  EXECUTE format('GRANT %I TO %I', wanted, login);
  IF security THEN
    EXECUTE format('GRANT {SECURITY_ROLE} TO %I', login);
  ELSIF EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                WHERE g.rolname = '{SECURITY_ROLE}' AND m.member = target.oid) THEN
    EXECUTE format('REVOKE {SECURITY_ROLE} FROM %I', login);
  END IF;
  EXECUTE format('ALTER ROLE %I %s', login, CASE WHEN active THEN 'LOGIN' ELSE 'NOLOGIN' END);
END $$;
"""


def install(db: Database, owner_admin: bool = False) -> bool:
    """Install or bring up to date the roles, grants and policies; False on SQLite (nothing to do).
    With `owner_admin` (`eim db upgrade`) the owner's login is also made an eim admin if it is not
    a user yet; opening a store (which may upgrade it on the way) adds no user."""
    if db.dialect != "postgresql":
        return False
    try:
        _install(db, owner_admin)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != "42501":  # insufficient privilege
            raise
        raise PermissionDenied(
            "installing eim's database roles needs the store's owner with CREATEROLE, or a superuser: "
            "run `eim db upgrade` as that login (docs/access.md, what a DBA sets up)"
        ) from None
    return True


def _install(db: Database, owner_admin: bool) -> None:
    with db.write_engine.begin() as conn:
        # One installer at a time (two `eim db upgrade`s at once would race on CREATE ROLE).
        conn.execute(text("SELECT pg_advisory_xact_lock(4541261)"))
        _roles(conn)
        tables = [t for t in inspect(conn).get_table_names() if t in Base.metadata.tables]
        _grants(conn, tables)
        conn.execute(text(_FUNCTIONS))
        _function_grants(conn)
        if "search_state" in tables:
            conn.execute(text(_SEARCH_STATE))
        _policies(conn, tables)
        if "incident" in tables:
            _placeholder_view(conn)
        if owner_admin:
            _owner_is_admin(conn)
        _sync_logins(conn)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _roles(conn: Connection) -> None:
    existing = set(conn.execute(text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:names)"),
                                {"names": list(ALL_ROLES)}).scalars())
    for role in ALL_ROLES:
        if role not in existing:
            # Roles belong to the whole cluster: another database's installer may make it meanwhile.
            conn.execute(text(
                f"DO $$ BEGIN CREATE ROLE {role} NOLOGIN; "
                "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"))


def _grants(conn: Connection, tables: list[str]) -> None:
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    everyone = ", ".join(ALL_ROLES)
    writers = ", ".join(WRITERS)
    conn.execute(text(f"GRANT USAGE ON SCHEMA {_q(schema)} TO {everyone}"))
    conn.execute(text(f"GRANT SELECT ON alembic_version TO {everyone}"))
    for table in tables:
        name = _q(table)
        conn.execute(text(f"REVOKE ALL ON {name} FROM PUBLIC, {everyone}"))
        conn.execute(text(f"GRANT SELECT ON {name} TO {everyone}"))
        if table in OWNER_WRITTEN:
            continue
        if table in APPEND_ONLY:
            conn.execute(text(f"GRANT INSERT ON {name} TO {writers}"))
        elif table in ADMIN_WRITTEN:
            conn.execute(text(f"GRANT INSERT, UPDATE, DELETE ON {name} TO eim_admin"))
        else:
            conn.execute(text(f"GRANT INSERT, UPDATE, DELETE ON {name} TO {writers}"))
    conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {_q(schema)} TO {writers}"))


def _function_grants(conn: Connection) -> None:
    for signature in ("eim_sees_confidential()", "eim_reads_confidential()", "eim_confidential_incident(integer)",
                      "eim_confidential_payload(integer)", "eim_chain_links(integer, integer)"):
        conn.execute(text(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC"))
        conn.execute(text(f"GRANT EXECUTE ON FUNCTION {signature} TO {', '.join(ALL_ROLES)}"))
    conn.execute(text("REVOKE ALL ON FUNCTION eim_set_login(text, text, boolean, boolean) FROM PUBLIC"))
    conn.execute(text("GRANT EXECUTE ON FUNCTION eim_set_login(text, text, boolean, boolean) TO eim_admin"))


def confidential_tables(tables: list[str]) -> dict[str, str]:
    """Table → the row-level policy's condition for seeing a row, for every table that holds
    something of an incident (`incident` itself, any `incident_id` column, the raw payloads)."""
    # `(SELECT eim_sees_confidential())` is evaluated once per statement, not once per row.
    member = "(SELECT eim_sees_confidential())"
    found: dict[str, str] = {}
    for name in tables:
        table = Base.metadata.tables[name]
        if name == "incident":
            found[name] = f"{member} OR NOT confidential"
        elif "incident_id" in table.columns:
            found[name] = f"{member} OR incident_id IS NULL OR NOT eim_confidential_incident(incident_id)"
        elif name == "inbound_payload":
            found[name] = f"{member} OR NOT eim_confidential_payload(id)"
    return found


def _policies(conn: Connection, tables: list[str]) -> None:
    for table, visible in confidential_tables(tables).items():
        name = _q(table)
        conn.execute(text(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY"))
        for command, clause in (("SELECT", f"USING ({visible})"), ("UPDATE", f"USING ({visible})"),
                                ("DELETE", f"USING ({visible})"), ("INSERT", "WITH CHECK (true)")):
            policy = _q(f"eim_{command.lower()}")
            conn.execute(text(f"DROP POLICY IF EXISTS {policy} ON {name}"))
            conn.execute(text(f"CREATE POLICY {policy} ON {name} FOR {command} TO PUBLIC {clause}"))


def _placeholder_view(conn: Connection) -> None:
    """`eim_incident_placeholder` (store/placeholders.py): owned by the store's owner, so it reads
    past row-level security; it shows only what a placeholder shows, and only to logins that cannot
    read confidential incidents. Remade each time, so a change of its columns needs no migration
    (schema.upgrade drops it before migrations change the incident table)."""
    conn.execute(text(f"DROP VIEW IF EXISTS {placeholders.VIEW}"))
    conn.execute(text(placeholders.view_sql()))
    owner = store_owner(conn)
    if owner and owner != conn.execute(text("SELECT current_user")).scalar():
        conn.execute(text(f"ALTER VIEW {placeholders.VIEW} OWNER TO {_q(owner)}"))
    conn.execute(text(f"REVOKE ALL ON {placeholders.VIEW} FROM PUBLIC"))
    conn.execute(text(f"GRANT SELECT ON {placeholders.VIEW} TO {', '.join(ALL_ROLES)}"))


def _owner_is_admin(conn: Connection) -> None:
    """The login that owns the store (it made the tables) is an eim admin from the start."""
    owner = store_owner(conn)
    if owner and owner not in SYSTEM_ACTORS:
        conn.execute(text("INSERT INTO app_user (name, full_name, email, role) VALUES (:n, '', '', 'admin') "
                          "ON CONFLICT (name) DO NOTHING"), {"n": owner})


def _sync_logins(conn: Connection) -> None:
    """Every eim user whose database login exists is in the group role of its eim role (a store
    upgraded from before this existed, or roles changed while the grants were missing)."""
    rows = conn.execute(text(
        "SELECT u.name, u.role, EXISTS (SELECT 1 FROM group_member m WHERE m.user_name = u.name "
        "AND m.group_name = 'security-ops') FROM app_user u JOIN pg_roles r ON r.rolname = u.name "
        "WHERE NOT r.rolsuper AND NOT r.rolcreaterole AND NOT r.rolbypassrls AND u.name <> current_user "
        "AND u.name NOT LIKE 'eim\\_%' AND u.name NOT LIKE 'pg\\_%'"
    )).all()
    for name, role, security in rows:
        retired = _retired(conn, name)
        role = role if role in {r.value for r in GROUP_ROLES} else Role.VIEWER.value
        _set_login(conn, {"n": name, "r": role, "s": bool(security), "a": not retired})


def _set_login(conn: Connection, values: dict, attempts: int = 5) -> None:
    """`eim_set_login` for one user. Roles belong to the whole cluster, and the installer's lock
    serialises installers of one database only: another database's installer altering the same
    role at once makes PostgreSQL refuse one with "tuple concurrently updated" (XX000). That one
    waits a moment and tries again, once the other has committed."""
    for attempt in range(attempts):
        try:
            with conn.begin_nested():
                conn.execute(text("SELECT eim_set_login(:n, :r, :s, :a)"), values)
            return
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != "XX000" or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _retired(conn: Connection, name: str) -> bool:
    if "retired_at" not in {c["name"] for c in inspect(conn).get_columns("app_user")}:
        return False
    return conn.execute(text("SELECT retired_at IS NOT NULL FROM app_user WHERE name = :n"), {"n": name}).scalar()


def store_owner(conn: Connection) -> str | None:
    """The login that owns the `incident` table: the store's owner (None before the store exists)."""
    return conn.execute(text(
        "SELECT pg_get_userbyid(c.relowner) FROM pg_class c "
        "WHERE c.oid = to_regclass('incident')"
    )).scalar()
