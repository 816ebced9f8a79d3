"""Integer columns between the database and numpy, without a Python object per value.

Province-scale dispatch reads millions of (member, community) and (member, skill) pairs. Django's
`values_list` builds a tuple and an int object per value (≈ 1 µs each), and so does any per-row
protocol on the client: psycopg hands a binary `COPY … TO STDOUT` over one row per call (measured
6.5 s for a million members against 0.9 s for psql). On PostgreSQL the server therefore packs the
whole result into one bytea of big-endian int4s, two columns to an int8 (`string_agg(int8send(…))`)
that numpy reads in place. The query itself is still Django's (a `values_list` queryset), so
filters and joins are written once and both backends run the same SQL.

Every column must be an integer expression that is never NULL (use `Coalesce(…, -1)`) and fits
in int4 (a larger value fails the query, it is never truncated). Row order
is not guaranteed on PostgreSQL (an aggregate over a subquery): sort in numpy where it matters.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction

_PG_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


def _row_dtype(k: int) -> np.dtype:
    fields = [("n", ">i2")]
    for i in range(k):
        fields += [(f"l{i}", ">i4"), (f"v{i}", ">i8")]
    return np.dtype(fields)


# Connections a whole-table batch spreads its queries over (PostgreSQL, outside a transaction):
# the project's servers have two cores, and each connection also waits on the network and numpy.
# Measured on a province's batch (six queries; load, three tries each): 4 connections took
# 1.68–1.90 s against 1.80–1.98 s for 3 and 1.84–2.52 s for 2; 6 were no better than 4.
PARALLEL = 4


def _compiled(qs) -> tuple[int, str | None, tuple]:
    """(columns, SQL, parameters); SQL is None for a query that can match nothing (`none()`,
    an empty IN list), which Django refuses to compile."""
    k = len(qs._fields) if qs._fields else len(qs.query.values_select) + len(qs.query.annotation_select)
    try:
        sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    except EmptyResultSet:
        return k, None, ()
    return k, sql, params


def _pairs(k: int) -> int:
    return (k + 1) // 2


def _pg_statement(pg_connection, k: int, sql: str, params) -> str:
    """The query as one statement returning one bytea: every row's columns, two to an int8.

    Each pair of columns travels as one big-endian int8, the first in the high 32 bits (an odd
    last column alone): half the bytes and calls of one int8send per column, which was most of
    the server's time after the scan (measured 0.30 s against 0.60 s for a million members'
    six columns). Every value must fit in int4: the `::int4` casts fail loudly otherwise.

    Parameters are merged client-side (psycopg quotes them), as Django does by default: an IN
    list of 30,000 communities would pass the 65,535 bound parameters the protocol allows.
    """
    import psycopg

    names = ", ".join(f"c{i}" for i in range(k))
    packed = " || ".join(
        f"int8send((c{i}::int4::int8 << 32) | (c{i + 1}::int4::int8 & 4294967295))"
        if i + 1 < k
        else f"int8send(c{i}::int4::int8)"
        for i in range(0, k, 2)
    )
    # Django's compiled SQL; rows where a column is NULL would be skipped by string_agg.
    statement = f"SELECT string_agg({packed}, ''::bytea) FROM ({sql}) AS t({names})"  # noqa: S608
    return psycopg.ClientCursor(pg_connection).mogrify(statement, params) if params else statement


def _unpack(data, k: int) -> np.ndarray:
    """The rows × k int64 array of `_pg_statement`'s bytea.

    A big-endian int8 made of two int4 halves is the two big-endian int4s in turn: the bytes are
    read as int4s, the lone last column's high half (its sign) skipped.
    """
    if data is None:
        return np.zeros((0, k), dtype=np.int64)
    words = np.frombuffer(data, dtype=">i4").reshape(-1, 2 * _pairs(k))
    if k % 2:
        words = words[:, [*range(k - 1), k]]
    return words.astype(np.int64)


def _pg_fetch(pg_connection, k: int, statement: str) -> np.ndarray:
    import psycopg

    # Binary results: the bytea arrives as is, not hex-encoded (measured 0.6 s less per 48 MB).
    with psycopg.Cursor(pg_connection) as cursor:
        cursor.execute(statement, binary=True)
        data = cursor.fetchone()[0]
    return _unpack(data, k)


def _logged(connection, statement: str, started: float) -> None:
    # Counted like any query (query-count tests, the debug toolbar) though it bypasses the wrapper.
    if connection.queries_logged:
        connection.queries_log.append({"sql": statement, "time": f"{time.monotonic() - started:.3f}"})


def fetch_ints(qs) -> np.ndarray:
    """The rows of a `values_list` queryset of integer columns as an int64 array (rows × columns).

    One query. PostgreSQL: the rows packed into one bytea by the server; other backends: the
    DB-API cursor's rows.
    """
    k, sql, params = _compiled(qs)
    if sql is None:
        return np.zeros((0, k), dtype=np.int64)
    connection = connections[qs.db]
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        started = time.monotonic()
        statement = _pg_statement(connection.connection, k, sql, params)
        rows = _pg_fetch(connection.connection, k, statement)
        _logged(connection, statement, started)
        return rows
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return np.array(rows, dtype=np.int64).reshape(-1, k)


def fetch_ints_many(querysets: list, *, parallel: bool = False) -> list[np.ndarray]:
    """`fetch_ints` of each queryset, in order.

    With `parallel` on PostgreSQL, outside any transaction, the queries run on `PARALLEL`
    connections of their own that share one snapshot (`pg_export_snapshot`, as pg_dump's
    parallel jobs do): the same consistent reading as one connection gives, with the server's
    cores scanning at once. Inside a transaction (a request, a test) the other connections would
    not see its writes, so the queries run one after the other on the caller's connection.
    """
    if not querysets:
        return []
    alias = querysets[0].db
    connection = connections[alias]
    if not (parallel and connection.vendor == "postgresql" and not connection.in_atomic_block and PARALLEL > 1):
        return [fetch_ints(qs) for qs in querysets]
    import psycopg
    from psycopg import sql as pg_sql

    compiled = [_compiled(qs) for qs in querysets]
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        params = connection.get_connection_params()
        statements = [_pg_statement(connection.connection, k, sql, p) if sql else None for k, sql, p in compiled]
        jobs = list(range(len(compiled)))
        lock = threading.Lock()
        results: list = [None] * len(compiled)

        def worker():
            with psycopg.connect(**params) as conn:
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                conn.execute(pg_sql.SQL("SET TRANSACTION SNAPSHOT {}").format(pg_sql.Literal(snapshot)))
                while True:
                    with lock:
                        if not jobs:
                            return
                        i = jobs.pop(0)
                    if statements[i] is None:
                        results[i] = np.zeros((0, compiled[i][0]), dtype=np.int64)
                        continue
                    started = time.monotonic()
                    results[i] = _pg_fetch(conn, compiled[i][0], statements[i])
                    with lock:
                        _logged(connection, statements[i], started)

        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(compiled))) as pool:
            for future in [pool.submit(worker) for _ in range(min(PARALLEL, len(compiled)))]:
                future.result()
    return results


def pg_binary_copy(columns: list[np.ndarray]) -> bytes:
    """Integer columns (no NULLs) as PostgreSQL binary COPY data, every field int8."""
    n = len(columns[0]) if columns else 0
    rows = np.empty(n, dtype=_row_dtype(len(columns)))
    rows["n"] = len(columns)
    for i, col in enumerate(columns):
        rows[f"l{i}"] = 8
        rows[f"v{i}"] = col
    return _PG_SIGNATURE + b"\x00" * 8 + rows.tobytes() + b"\xff\xff"
