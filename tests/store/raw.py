"""Plain SQL on a test database of any backend, as another program (or an older
cadenza) would write it: statements with ``:name`` parameters, outside the store."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa


@contextmanager
def connection(url: str) -> Iterator[sa.Connection]:
    """A connection in a transaction, committed at the end of the block."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def execute(url: str, statement: str, rows: Sequence[Mapping[str, Any]] = ({},)) -> None:
    """Execute ``statement`` once per mapping of ``rows``, in one transaction."""
    with connection(url) as conn:
        conn.execute(sa.text(statement), list(rows))


def scalar(url: str, query: str) -> Any:
    with connection(url) as conn:
        return conn.execute(sa.text(query)).scalar()


def table_names(url: str) -> set[str]:
    with connection(url) as conn:
        return set(sa.inspect(conn).get_table_names())


def where(url: str) -> str:
    """How the store's messages name the database of ``url``: the file of a SQLite URL,
    the URL (without its password) of another database."""
    u = sa.engine.make_url(url)
    return str(u.database) if u.get_backend_name() == "sqlite" else u.render_as_string()
