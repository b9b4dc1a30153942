"""The incidents an export covers, kept where the store is (core layer; issue 16 item 10).

An export goes over its incidents twice: a chunk at a time to write the file, then once more to record what
it exported (ExportLatest: each incident's version and updated_at as read) and a digest of their ids for the
audit event. What is kept for that is each incident's (id, version, updated_at), in export order.

- On the embedded store (one ward's records) it is a list on the PC, read in batches.
- On a trust's server a year can be a million incidents, and the list alone grew the PC's memory by about
  570 bytes an incident. So there it stays on the server: a temporary table made in the export's own
  transaction (dropped when that transaction ends, committed or not), read a chunk at a time by position,
  recorded a slice at a time with INSERT ... SELECT and digested as a stream. The PC's memory does not grow with the store.

Both give the same chunks in the same order, the same count and the same digest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, func, insert, select

Row = tuple[str, int, str]  # an incident's id, version and updated_at, as read
FETCH = 10_000  # rows fetched from the database at a time when reading a whole selection

# The server's selection: temporary (this connection only, in pg_temp, beyond every other account's reach) and
# dropped at the end of the transaction that made it.
_CHOSEN = Table("lantern_export_chosen", MetaData(),
                Column("pos", BigInteger, primary_key=True), Column("id", String, nullable=False),
                Column("version", Integer, nullable=False), Column("updated_at", String, nullable=False),
                prefixes=["TEMPORARY"], postgresql_on_commit="DROP")

_LATEST_COLUMNS = "INSERT INTO export_latest (kind, batch_id, incident_id, incident_version, incident_updated_at) "
_LATEST_UPSERT = (" ON CONFLICT (kind, incident_id) DO UPDATE SET batch_id = excluded.batch_id, "
                  "incident_version = excluded.incident_version, incident_updated_at = excluded.incident_updated_at")
# SQLite: the whole selection in one statement, from a JSON array of [id, version, updated_at] (a row-by-row
# executemany costs about four times as much: each write statement carries SQLite's per-statement overhead).
_LATEST_FROM_JSON = (_LATEST_COLUMNS + "SELECT ?, ?, value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) "
                     "WHERE true" + _LATEST_UPSERT)
# PostgreSQL, a list (one incident's PDF): the rows as three arrays.
_LATEST_FROM_ARRAYS = (_LATEST_COLUMNS + "SELECT %s, %s, i, v, u FROM unnest(%s::varchar[], %s::integer[], "
                       "%s::varchar[]) AS t(i, v, u)" + _LATEST_UPSERT)
_LATEST_FROM_CHOSEN = (_LATEST_COLUMNS + "SELECT %s, %s, id, version, updated_at FROM lantern_export_chosen "
                       "WHERE pos > %s AND pos <= %s" + _LATEST_UPSERT)
LATEST_SLICE = 20_000  # incidents recorded a statement (each checked by the child table's policy on a server)
# A server ends any statement after 30 s (core.db.server.STATEMENT_TIMEOUT_MS). Choosing a trust-wide year is one
# statement that sorts it (about a million rows), so the export's own transaction allows it longer.
EXPORT_STATEMENT_TIMEOUT = "10min"


def choose(connection, rows, order) -> Listed | OnServer:
    """The selection of `rows` (a select of Incident.id, version and updated_at, already limited to what the
    export covers) in `order`: on the server's transaction if `connection` is PostgreSQL, else a list."""
    if connection.dialect.name == "postgresql":
        return OnServer(connection, rows, order)
    return Listed([tuple(r) for r in connection.execute(rows.order_by(*order), execution_options={"yield_per": FETCH})])


def ids_digest(sorted_ids: Iterable[str]) -> str:
    """SHA-256 of the ids, sorted, one a line (no newline after the last): built as they stream past."""
    digest, separator = hashlib.sha256(), b""
    for incident_id in sorted_ids:
        digest.update(separator + incident_id.encode())
        separator = b"\n"
    return digest.hexdigest()


class Listed:
    """The selection as a list on the PC: the embedded store's, and one incident's PDF on either."""

    in_transaction = False  # recorded in a write transaction of its own, after the read one

    def __init__(self, rows: list[Row]) -> None:
        self.rows, self.count = rows, len(rows)

    def chunks(self, size: int) -> Iterator[list[Row]]:
        for start in range(0, self.count, size):
            yield self.rows[start:start + size]

    def ids_digest(self, connection) -> str:
        return ids_digest(sorted(i for i, _v, _u in self.rows))

    def record_latest(self, connection, kind: str, batch_id: int) -> None:
        if not self.rows:
            return
        if connection.dialect.name == "postgresql":
            ids, versions, updated = (list(column) for column in zip(*self.rows, strict=True))
            connection.exec_driver_sql(_LATEST_FROM_ARRAYS, (kind, batch_id, ids, versions, updated))
        else:
            connection.exec_driver_sql(_LATEST_FROM_JSON, (kind, batch_id, json.dumps(self.rows)))


class OnServer:
    """The selection in a temporary table of the export's transaction on the server, numbered in export order."""

    in_transaction = True  # the table ends with the transaction: record the export in it

    def __init__(self, connection, rows, order) -> None:
        self.connection = connection
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = '{EXPORT_STATEMENT_TIMEOUT}'")
        _CHOSEN.create(connection)
        numbered = rows.add_columns(func.row_number().over(order_by=order))
        connection.execute(insert(_CHOSEN).from_select(["id", "version", "updated_at", "pos"], numbered))
        connection.exec_driver_sql("ANALYZE lantern_export_chosen")  # a fresh table has no statistics
        self.count = connection.scalar(select(func.count()).select_from(_CHOSEN))

    def chunks(self, size: int) -> Iterator[list[Row]]:
        for start in range(0, self.count, size):
            yield [tuple(r) for r in self.connection.execute(
                select(_CHOSEN.c.id, _CHOSEN.c.version, _CHOSEN.c.updated_at)
                .where(_CHOSEN.c.pos > start, _CHOSEN.c.pos <= start + size).order_by(_CHOSEN.c.pos))]

    def ids_digest(self, connection) -> str:
        # "C" orders by code point, as Python's sorted() does, whatever the database's own collation.
        ids = connection.execute(select(_CHOSEN.c.id).order_by(_CHOSEN.c.id.collate("C")),
                                 execution_options={"yield_per": FETCH}).scalars()
        return ids_digest(ids)

    def record_latest(self, connection, kind: str, batch_id: int) -> None:
        for start in range(0, self.count, LATEST_SLICE):
            connection.exec_driver_sql(_LATEST_FROM_CHOSEN, (kind, batch_id, start, start + LATEST_SLICE))
