"""The full-text index over incidents: title, description, diagnosis notes and resolution.

SQLite keeps it in an FTS5 table `incident_fts` (rowid = incident number, ranked with bm25);
PostgreSQL in a `search_document` tsvector column of `incident` with a GIN index (ranked with
ts_rank). Triggers keep either current in the transaction of every change, so a note or a
resolution is findable the moment it commits. All of its DDL is here: `install(conn)` runs it on a
new store (store/schema.py, after create_all) and migration 0012 runs the same statements.

Bulk loads (the demo, the importer) `pause` the triggers inside their own transaction (the
`search_state` row; other writers still see it on) and `refill` the rows they added once at the end.

Confidentiality: on PostgreSQL the notes are behind row-level security, so the function that reads
them for the index runs as the store's owner (SECURITY DEFINER) and nobody else may call it; the
index lives on `incident` itself, so RLS on that table hides a confidential incident's words too.
On SQLite the services leave confidential incidents out for those who may not see them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import (
    Boolean,
    ColumnElement,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from eim_tui.store.tables import IncidentRow, SearchStateRow

# Title weighs most, then description and resolution, then the notes (bm25's column weights and
# PostgreSQL's A/B/C labels say the same thing).
BM25_WEIGHTS = "10.0, 4.0, 2.0, 4.0"
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

_DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"

_NOTES = "(SELECT string_agg(n.text, chr(32) ORDER BY n.position) FROM diagnosis_note n WHERE n.incident_id = number)"


def _words(value: str, weight: str) -> str:
    """`value`'s words labelled `weight`, split at every character that is not a letter or digit, as
    FTS5 and the queries split them (PostgreSQL's parser alone keeps "db01.pay.internal" whole)."""
    return f"setweight(to_tsvector('{TS_CONFIG}', regexp_replace(coalesce({value}, ''), '[^[:alnum:]]+', ' ', 'g')), '{weight}')"


POSTGRESQL = [
    "INSERT INTO search_state (id, indexing) VALUES (1, true)",
    "ALTER TABLE incident ADD COLUMN search_document tsvector",
    "CREATE INDEX ix_incident_search ON incident USING gin (search_document)",
    # Reads the notes as the owner: the index must hold them whoever made the change.
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
    # Filling the index after a bulk load: as the owner, so a loader outside the security group
    # (whom row-level security would hide confidential rows from) still indexes every row. It
    # returns nothing and indexes only what is there, so anyone may call it.
    (f"CREATE FUNCTION eim_search_refill(first integer) RETURNS void LANGUAGE sql {_DEFINER} AS $$ "
    "UPDATE incident SET search_document = eim_search_document(id, title, description, resolution_notes) "
    "WHERE id >= first $$"),
]


# What the index adds outside the ORM's tables (schema comparisons leave these to tests of their own).
FTS_TABLE = "incident_fts"
DOCUMENT_COLUMN = "search_document"
DOCUMENT_INDEX = "ix_incident_search"


def outside_metadata(name: str | None, kind: str) -> bool:
    """Whether a schema object `name` of `kind` (table, column, index) is the index's own."""
    if kind == "table":
        return bool(name) and (name == FTS_TABLE or name.startswith(FTS_TABLE + "_"))
    return name in (DOCUMENT_COLUMN, DOCUMENT_INDEX)


def statements(dialect: str) -> list[str]:
    """The DDL that makes the index on a store of `dialect` (after its tables exist)."""
    return POSTGRESQL if dialect == "postgresql" else SQLITE


def install(conn: Connection) -> None:
    """Make the index, its triggers and functions (on a new store; an empty index of no rows)."""
    for statement in statements(conn.dialect.name):
        conn.exec_driver_sql(statement)


def refill(conn: Connection, first: int = 1) -> None:
    """Index every incident numbered `first` or later, whatever the index held for them."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT eim_search_refill(:first)"), {"first": first})
        return
    conn.execute(text("DELETE FROM incident_fts WHERE rowid >= :first"), {"first": first})
    conn.execute(text(
        "INSERT INTO incident_fts (rowid, title, description, notes, resolution) "
        "SELECT i.id, i.title, i.description, coalesce(n.notes, ''), i.resolution_notes FROM incident i "
        "LEFT JOIN (SELECT incident_id, group_concat(text, ' ') AS notes FROM "
        "(SELECT incident_id, text FROM diagnosis_note WHERE incident_id >= :first ORDER BY incident_id, position) "
        "GROUP BY incident_id) n ON n.incident_id = i.id WHERE i.id >= :first"
    ), {"first": first})


def pause(session: Session) -> None:
    """Stop the triggers for the rest of this transaction's bulk load (others still index)."""
    session.execute(update(SearchStateRow).where(SearchStateRow.id == 1).values(indexing=False))


# A load this large changes what the planner should know about the index: until autovacuum gets to
# it, stale statistics send full-text queries through the state index instead (425 ms, not 34 ms,
# for similar incidents over 100,000 on PostgreSQL right after `eim demo`).
ANALYZE_AFTER = 10_000


def resume(session: Session, first: int, loaded: int = 0) -> None:
    """Triggers on again, and the incidents from `first` on (`loaded` of them) indexed at once."""
    session.execute(update(SearchStateRow).where(SearchStateRow.id == 1).values(indexing=True))
    refill(session.connection(), first)
    if loaded >= ANALYZE_AFTER and session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE incident"))  # a login that does not own it gets a warning, not an error


# --- queries --------------------------------------------------------------------------------------


def _fts5_query(words: Sequence[str], how: str) -> str:
    """An FTS5 query of `words`, each quoted (so none is read as an operator): `all` words, `any`
    word, the `phrase`, or all words each as the start of a word (`prefix`: what a filter typed so far)."""
    quoted = [f'"{w}"' + ("*" if how == "prefix" else "") for w in words]
    if how == "phrase":
        return '"' + " ".join(words) + '"'
    return (" OR " if how == "any" else " ").join(quoted)


def _tsquery(words: Sequence[str], how: str) -> str:
    """The same for PostgreSQL's to_tsquery (words are letters and digits only: no operators)."""
    if how == "prefix":
        words = [f"{w}:*" for w in words]
    return {"any": " | ", "phrase": " <-> "}.get(how, " & ").join(words)


class TextMatch(FunctionElement):
    """`incident` rows whose indexed text holds `words` (`how`: all, any, phrase or prefix), on either database.

    Written as "the row's id is among the matching incidents'", with the id a real column of the
    statement: a statement read from another source than the table (the PostgreSQL placeholder
    union, store/placeholders.py) has that column adapted like any other, and the index is still
    asked inside the subquery (row-level security applies there too)."""

    type = Boolean()
    inherit_cache = True

    def __init__(self, words: Sequence[str], how: str = "all") -> None:
        super().__init__(IncidentRow.id, literal(_fts5_query(words, how)), literal(_tsquery(words, how)))


@compiles(TextMatch)
def _text_match_postgresql(element, compiler, **kw) -> str:
    number, _, query = list(element.clauses)
    found = select(literal_column("id")).select_from(table("incident")).where(
        literal_column("search_document").op("@@")(_to_tsquery(query)))
    return compiler.process(number.in_(found), **kw)


@compiles(TextMatch, "sqlite")
def _text_match_sqlite(element, compiler, **kw) -> str:
    number, query, _ = list(element.clauses)
    found = select(literal_column("rowid")).select_from(table("incident_fts")).where(
        literal_column("incident_fts").op("MATCH")(query))
    return compiler.process(number.in_(found), **kw)


def _to_tsquery(query) -> ColumnElement:
    return func.to_tsquery(literal_column(f"'{TS_CONFIG}'"), query)


def ranked(
    session: Session, words: Sequence[str], how: str, states: Sequence[str], exclude: int,
    include_confidential: bool, limit: int, newest: int | None = None,
) -> list[tuple[int, float]]:
    """Incidents in `states` (not `exclude`) whose text holds `words`, most relevant first:
    (number, score) with a higher score more relevant, at most `limit`. With `newest`, only the
    `newest` most recent matches are ranked: a query of common words matches tens of thousands
    of incidents, and ranking each costs more than the answer is worth."""
    if not words:
        return []
    confidential = "" if include_confidential else " AND NOT i.confidential"
    names = ", ".join(f":s{n}" for n in range(len(states)))
    params = {f"s{n}": s for n, s in enumerate(states)} | {"exclude": exclude, "limit": limit, "newest": newest}
    where = f"i.state IN ({names}) AND i.id <> :exclude{confidential}"
    if session.get_bind().dialect.name == "postgresql":
        params["query"] = _tsquery(words, how)
        matches = (f"SELECT i.id, i.search_document FROM incident i WHERE i.search_document @@ "
                   f"to_tsquery('{TS_CONFIG}', :query) AND {where}")
        if newest is not None:  # walks the key backwards, testing each row, until it has enough
            matches += " ORDER BY i.id DESC LIMIT :newest"
        sql = (f"SELECT m.id, ts_rank(m.search_document, to_tsquery('{TS_CONFIG}', :query)) AS score "
               f"FROM ({matches}) m ORDER BY score DESC, m.id DESC LIMIT :limit")
    else:
        params["query"] = _fts5_query(words, how)
        recent = ""
        if newest is not None:  # FTS5 walks its rowids backwards: the cut-off costs one pass
            recent = (" AND f.rowid >= coalesce((SELECT min(rowid) FROM (SELECT rowid FROM incident_fts "
                      "WHERE incident_fts MATCH :query ORDER BY rowid DESC LIMIT :newest)), 0)")
        sql = (
            f"SELECT f.rowid AS id, -bm25(incident_fts, {BM25_WEIGHTS}) AS score FROM incident_fts f "
            f"JOIN incident i ON i.id = f.rowid WHERE incident_fts MATCH :query{recent} "
            f"AND {where} ORDER BY score DESC, i.id DESC LIMIT :limit"
        )
    return [(r.id, float(r.score)) for r in session.execute(text(sql), params)]


def resolutions(session: Session, numbers: Sequence[int]) -> dict[int, tuple]:
    """For each of `numbers`: (title, state, resolution code, resolution notes, resolved at)."""
    rows = session.execute(
        select(IncidentRow.id, IncidentRow.title, IncidentRow.state, IncidentRow.resolution_code,
               IncidentRow.resolution_notes, IncidentRow.resolved_at).where(IncidentRow.id.in_(list(numbers)))
    )
    return {r.id: (r.title, r.state, r.resolution_code, r.resolution_notes, r.resolved_at) for r in rows}
