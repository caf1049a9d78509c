"""the full-text index over incidents (issue 11: similar past incidents, `text:` filters)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

- `search_state`: one row saying whether the index follows each change (a bulk load turns it off
  inside its own transaction and fills the index once at the end).
- SQLite: an FTS5 table `incident_fts` over title, description, diagnosis notes and resolution,
  kept current by triggers on `incident` and `diagnosis_note`.
- PostgreSQL: `incident.search_document` (tsvector) with a GIN index, kept current by triggers
  whose functions run as the owner (the notes are behind row-level security); nobody else may
  call them.

The statements are those store/search.py runs on a new store, copied here so this migration does
not change with the package (tests/store/test_search_ddl.py holds the two together). Every existing
incident is indexed on the way; nothing existing is changed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"
TS_CONFIG = "english"

SQLITE = [
    "INSERT INTO search_state (id, indexing) VALUES (1, 1)",
    ("CREATE VIRTUAL TABLE incident_fts USING fts5("
    "title, description, notes, resolution, tokenize = 'porter unicode61 remove_diacritics 2')"),
    ("CREATE TRIGGER incident_fts_insert AFTER INSERT ON incident "
    "WHEN (SELECT indexing FROM search_state WHERE id = 1) BEGIN "
    "INSERT INTO incident_fts (rowid, title, description, notes, resolution) "
    "VALUES (new.id, new.title, new.description, '', new.resolution_notes); END"),
    ("CREATE TRIGGER incident_fts_update AFTER UPDATE OF title, description, resolution_notes ON incident "
    "WHEN (SELECT indexing FROM search_state WHERE id = 1) BEGIN "
    "UPDATE incident_fts SET title = new.title, description = new.description, resolution = new.resolution_notes "
    "WHERE rowid = new.id; END"),
    ("CREATE TRIGGER incident_fts_delete AFTER DELETE ON incident BEGIN "
    "DELETE FROM incident_fts WHERE rowid = old.id; END"),
    *(
        f"CREATE TRIGGER diagnosis_note_fts_{event.lower()} AFTER {event} ON diagnosis_note "
        "WHEN (SELECT indexing FROM search_state WHERE id = 1) BEGIN "
        "UPDATE incident_fts SET notes = (SELECT coalesce(group_concat(text, ' '), '') FROM "
        f"(SELECT text FROM diagnosis_note WHERE incident_id = {row}.incident_id ORDER BY position)) "
        f"WHERE rowid = {row}.incident_id; END"
        for event, row in (("INSERT", "new"), ("UPDATE", "new"), ("DELETE", "old"))
    ),
]


_NOTES = "(SELECT string_agg(n.text, chr(32) ORDER BY n.position) FROM diagnosis_note n WHERE n.incident_id = number)"


def _words(value: str, weight: str) -> str:
    """`value`'s words labelled `weight`, split at every character that is not a letter or digit, as
    FTS5 and the queries split them (PostgreSQL's parser alone keeps "db01.pay.internal" whole)."""
    return f"setweight(to_tsvector('{TS_CONFIG}', regexp_replace(coalesce({value}, ''), '[^[:alnum:]]+', ' ', 'g')), '{weight}')"


POSTGRESQL = [
    "INSERT INTO search_state (id, indexing) VALUES (1, true)",
    "ALTER TABLE incident ADD COLUMN search_document tsvector",
    "CREATE INDEX ix_incident_search ON incident USING gin (search_document)",
    ("CREATE FUNCTION eim_search_document(number integer, title text, description text, resolution text) "
    f"RETURNS tsvector LANGUAGE sql STABLE {_DEFINER} AS $$ "
    f"SELECT {_words('title', 'A')} || {_words('description', 'B')} || {_words(_NOTES, 'C')} "
    f"|| {_words('resolution', 'B')} $$"),
    "REVOKE EXECUTE ON FUNCTION eim_search_document(integer, text, text, text) FROM PUBLIC",
    (f"CREATE FUNCTION eim_index_incident() RETURNS trigger LANGUAGE plpgsql {_DEFINER} AS $$ BEGIN "
    "IF (SELECT indexing FROM search_state WHERE id = 1) THEN "
    "NEW.search_document := eim_search_document(NEW.id, NEW.title, NEW.description, NEW.resolution_notes); "
    "END IF; RETURN NEW; END $$"),
    "REVOKE EXECUTE ON FUNCTION eim_index_incident() FROM PUBLIC",
    ("CREATE TRIGGER incident_search BEFORE INSERT OR UPDATE OF title, description, resolution_notes "
    "ON incident FOR EACH ROW EXECUTE FUNCTION eim_index_incident()"),
    (f"CREATE FUNCTION eim_index_notes() RETURNS trigger LANGUAGE plpgsql {_DEFINER} AS $$ "
    "DECLARE number integer := CASE WHEN TG_OP = 'DELETE' THEN OLD.incident_id ELSE NEW.incident_id END; BEGIN "
    "IF (SELECT indexing FROM search_state WHERE id = 1) THEN "
    "UPDATE incident SET search_document = eim_search_document(id, title, description, resolution_notes) "
    "WHERE id = number; END IF; RETURN NULL; END $$"),
    "REVOKE EXECUTE ON FUNCTION eim_index_notes() FROM PUBLIC",
    ("CREATE TRIGGER diagnosis_note_search AFTER INSERT OR UPDATE OF text OR DELETE "
    "ON diagnosis_note FOR EACH ROW EXECUTE FUNCTION eim_index_notes()"),
    (f"CREATE FUNCTION eim_search_refill(first integer) RETURNS void LANGUAGE sql {_DEFINER} AS $$ "
    "UPDATE incident SET search_document = eim_search_document(id, title, description, resolution_notes) "
    "WHERE id >= first $$"),
]


def upgrade() -> None:
    op.create_table(
        "search_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("indexing", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    bind = op.get_bind()
    for statement in POSTGRESQL if bind.dialect.name == "postgresql" else SQLITE:
        bind.exec_driver_sql(statement)
    # Every incident the store already has, indexed now.
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("SELECT eim_search_refill(1)")
    else:
        bind.exec_driver_sql(
            "INSERT INTO incident_fts (rowid, title, description, notes, resolution) "
            "SELECT i.id, i.title, i.description, coalesce(n.notes, ''), i.resolution_notes FROM incident i "
            "LEFT JOIN (SELECT incident_id, group_concat(text, ' ') AS notes FROM "
            "(SELECT incident_id, text FROM diagnosis_note ORDER BY incident_id, position) "
            "GROUP BY incident_id) n ON n.incident_id = i.id"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for statement in (
            "DROP TRIGGER diagnosis_note_search ON diagnosis_note",
            "DROP TRIGGER incident_search ON incident",
            "DROP FUNCTION eim_search_refill(integer)",
            "DROP FUNCTION eim_index_notes()",
            "DROP FUNCTION eim_index_incident()",
            "DROP FUNCTION eim_search_document(integer, text, text, text)",
            "ALTER TABLE incident DROP COLUMN search_document",
        ):
            bind.exec_driver_sql(statement)
    else:
        for name in ("incident_fts_insert", "incident_fts_update", "incident_fts_delete",
                     "diagnosis_note_fts_insert", "diagnosis_note_fts_update", "diagnosis_note_fts_delete"):
            bind.exec_driver_sql(f"DROP TRIGGER {name}")
        bind.exec_driver_sql("DROP TABLE incident_fts")
    op.drop_table("search_state")
