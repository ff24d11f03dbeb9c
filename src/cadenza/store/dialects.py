"""What differs between SQLite and PostgreSQL, in one place."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cadenza.exceptions import StoreCorruptError, StoreError, StoreFullError


def create_engine(url: str) -> Engine:
    """An engine for ``url`` with cadenza's connection settings applied.

    Raises:
        StoreError: the URL's database driver is not installed.
    """
    u = postgres_driver(sa.engine.make_url(url))
    if u.get_backend_name() == "sqlite":
        engine = sa.create_engine(
            u, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8
        )
        _configure_sqlite(engine)
        return engine
    # psycopg takes %s placeholders as well as %(name)s ones: positional, rows of the
    # writer go to the driver as tuples, as with SQLite (see execute_rows).
    options = {"paramstyle": "format"} if u.get_driver_name() == "psycopg" else {}
    try:
        return sa.create_engine(u, pool_pre_ping=True, pool_size=8, **options)
    except ImportError as exc:
        raise StoreError(
            f"The database driver of {u.render_as_string()} is not installed ({exc}). "
            "For PostgreSQL, install cadenza's postgres extra (pip install "
            "'cadenza[postgres]', the psycopg driver) and use a URL of the form "
            "postgresql+psycopg://user:password@host:5432/database."
        ) from exc


def postgres_driver(url: sa.URL) -> sa.URL:
    """``url`` with the psycopg driver when it names PostgreSQL without a driver
    (``postgresql://`` or ``postgres://``) and psycopg is installed, as with cadenza's
    postgres extra; SQLAlchemy would pick psycopg2 otherwise."""
    if url.drivername not in ("postgresql", "postgres"):
        return url
    import importlib.util

    if importlib.util.find_spec("psycopg") is not None:
        return url.set(drivername="postgresql+psycopg")
    return url.set(drivername="postgresql")


def _configure_sqlite(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how transactions start.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # Writers take the write lock up front, so a transaction never has to upgrade a
        # read lock (which SQLite refuses at once with "database is locked", whatever
        # the busy timeout). Readers say so with the ``cadenza_readonly`` option.
        if conn.get_execution_options().get("cadenza_readonly"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def insert_ignore(table: sa.Table, dialect_name: str) -> Any:
    """``INSERT`` that skips rows whose primary key (or another unique key) exists
    already; its result's ``rowcount`` is the number of rows inserted, also on
    PostgreSQL (where SQLAlchemy keeps the count of an INSERT only when asked)."""
    statement = dialect_insert(table, dialect_name).on_conflict_do_nothing()
    return statement.execution_options(preserve_rowcount=True)


def lock_for_schema_setup(conn: sa.Connection) -> None:
    """Serialize schema creation between processes starting at the same time."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7245017)")
    # SQLite: the BEGIN IMMEDIATE of the transaction holds the write lock already.


_BUSY = ("database is locked", "database is busy", "database table is locked")
_CORRUPT = ("file is not a database", "database disk image is malformed", "file is encrypted")
_FULL = ("database or disk is full", "disk full", "no space left on device")


def is_busy(exc: BaseException) -> bool:
    """True for errors that go away by trying again (another writer holds the lock)."""
    msg = str(getattr(exc, "orig", exc)).lower()
    if any(s in msg for s in _BUSY):
        return True
    return "could not serialize access" in msg or "deadlock detected" in msg


_RACES = ("23505", "23503")  # unique_violation, foreign_key_violation


def is_race(exc: BaseException) -> bool:
    """True for a PostgreSQL error that a concurrent transaction may have caused: a
    unique key that another writer committed after this transaction looked for it, or a
    row it refers to that another writer deleted. Running the transaction again
    (briefly) turns it into the answer it would have given had it come second: the
    domain's "exists already" or "not found", an update instead of an insert.

    SQLite serializes writers (``BEGIN IMMEDIATE``), so no such race happens there.
    """
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in _RACES


def translate(exc: sa.exc.SQLAlchemyError, where: str) -> StoreError:
    """Turn a driver error into cadenza's own error, saying what to do."""
    msg = str(getattr(exc, "orig", exc))
    low = msg.lower()
    if any(s in low for s in _FULL):
        return StoreFullError(
            f"Could not write to the cadenza database at {where}: the disk is full ({msg}). "
            "Free some space; the run's records are kept in memory and written when "
            "space is available, as long as this process lives."
        )
    if any(s in low for s in _CORRUPT):
        return StoreCorruptError(
            f"The file {where} is not a readable cadenza database ({msg}). "
            "Move it aside (it may be recoverable with `sqlite3 FILE .recover`) and "
            "cadenza will create a new one, or point CADENZA_HOME or "
            "CADENZA_DATABASE_URL at another database."
        )
    if "unable to open database file" in low:
        return StoreError(
            f"Could not open the cadenza database at {where} ({msg}). Check that the "
            "folder exists and is writable, or set CADENZA_HOME to another folder."
        )
    return StoreError(f"Database error at {where}: {msg}")


_compiled: dict[tuple[int, str, tuple[str, ...]], tuple[Any, str]] = {}
_POSITIONAL = ("qmark", "format")


def execute_rows(
    conn: sa.Connection, statement: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> int:
    """Execute ``statement`` (an INSERT, or an UPDATE whose parameters are bindparams
    named ``columns``) once per row of ``rows``, tuples in ``columns`` order.

    With a positional paramstyle (SQLite's qmark, and psycopg's format as
    :func:`create_engine` sets it) the statement is compiled once and the tuples go to
    the driver's ``executemany`` as they are, which skips SQLAlchemy's per-row parameter
    processing (a third of the time of 10,000 rows on PostgreSQL); other drivers get
    dictionaries. Returns the number of rows changed as the driver reports it (-1 when
    it does not know).
    """
    dialect = conn.dialect
    if dialect.paramstyle in _POSITIONAL:
        key = (id(statement), dialect.name, columns)
        cached = _compiled.get(key)
        if cached is None:
            compiled = statement.compile(dialect=dialect, column_keys=list(columns))
            order = tuple(compiled.positiontup or ())
            if order != columns:
                raise AssertionError(f"parameter order {order} differs from {columns}")
            # The statement is kept with its SQL so that its id is not reused.
            cached = _compiled[key] = (statement, compiled.string)
        result = conn.exec_driver_sql(cached[1], rows)
    else:
        result = conn.execute(statement, [dict(zip(columns, r, strict=True)) for r in rows])
    return int(result.rowcount)


def floor_div(column: Any, divisor: float, dialect_name: str) -> Any:
    """``floor(column / divisor)`` as an integer, in SQL."""
    if dialect_name == "sqlite":
        # CAST truncates toward zero, which is floor for the positive times stored.
        return sa.cast(column / divisor, sa.BigInteger)
    # The divisor is written into the SQL: the expression is then the same text in the
    # SELECT and the GROUP BY (two bound parameters would make them differ).
    divisor_sql = sa.literal(float(divisor), sa.Float, literal_execute=True)
    return sa.cast(sa.func.floor(column / divisor_sql), sa.BigInteger)


def least(a: Any, b: Any, dialect_name: str) -> Any:
    """The smaller of two values, in SQL."""
    if dialect_name == "sqlite":
        return sa.func.min(a, b)  # min() of several arguments is scalar in SQLite
    return sa.func.least(a, b)


def dialect_insert(table: sa.Table, dialect_name: str) -> Any:
    """``INSERT`` of the dialect, with ``on_conflict_do_nothing`` and
    ``on_conflict_do_update`` available."""
    if dialect_name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    raise StoreError(f"Unsupported database {dialect_name!r}: use SQLite or PostgreSQL.")


def upsert(
    table: sa.Table,
    dialect_name: str,
    keys: tuple[str, ...],
    update: tuple[str, ...],
    where: Any = None,
) -> Any:
    """``INSERT`` that, on a row whose ``keys`` exist, sets the ``update`` columns to the
    new values instead; only where ``where(table, excluded)`` holds, when given."""
    statement = dialect_insert(table, dialect_name)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: excluded[name] for name in update},
        where=None if where is None else where(table, excluded),
    )


def like(column: Any, pattern: str, dialect_name: str, *, case_sensitive: bool) -> Any:
    """``column LIKE pattern`` (``%`` any text, ``_`` one character), with or without
    case on every database (SQLite's own LIKE ignores case: GLOB is used instead)."""
    if not case_sensitive:
        return column.ilike(pattern)
    if dialect_name == "sqlite":
        return column.op("GLOB")(like_to_glob(pattern))
    return column.like(pattern)


def like_to_glob(pattern: str) -> str:
    """A LIKE pattern as the GLOB pattern matching the same texts, case included."""
    out = []
    for ch in pattern:
        if ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    return "".join(out)
