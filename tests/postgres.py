"""A PostgreSQL server for the tests that are about PostgreSQL.

``CADENZA_TEST_POSTGRES_URL`` names the server (a SQLAlchemy URL of any database on it,
``postgresql+psycopg://...``); ``make postgres`` starts one of the checkout's own and
prints its URL, and ``make test`` sets the variable. Without it the PostgreSQL cases are
skipped.

A test session creates one scratch database on the server and drops it at its end; each
test gets a schema of its own in it, reached through the URL's ``search_path``, and the
schema is dropped after the test. A schema costs about 1 ms to create, a database
100-300 ms (both then take the same time to receive cadenza's tables). The scratch
database sorts text as en-US (ICU) by default where the server can, as many servers do,
so that the tests notice what would depend on the database's collation.
"""

from __future__ import annotations

import itertools
import os
import secrets
from typing import Any

import sqlalchemy as sa

ENV = "CADENZA_TEST_POSTGRES_URL"
SKIP_REASON = (
    f"{ENV} is not set: `make postgres` starts a PostgreSQL server and prints its URL "
    "(`make test` starts it and sets the variable)"
)
_PREFIX = "cadenza_test_"


class PostgresDatabases:
    """Fresh, empty databases (schemas of one scratch database) on a PostgreSQL server."""

    def __init__(self, url: str) -> None:
        self.server_url = sa.engine.make_url(url)
        self._admin = _autocommit_engine(self.server_url)
        self.database = f"{_PREFIX}{os.getpid()}_{secrets.token_hex(3)}"
        self._counter = itertools.count(1)
        with self._admin.connect() as conn:
            _drop_databases_of_dead_sessions(conn)
            self.collation = _create_database(conn, self.database)
        self.url = self.server_url.set(database=self.database)
        self._scratch = _autocommit_engine(self.url)

    def fresh_url(self) -> str:
        """The URL of an empty database of its own (a new schema), as a string."""
        schema = f"t{next(self._counter):05d}"
        with self._scratch.connect() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        return self._url_of(schema)

    def _url_of(self, schema: str) -> str:
        query = {**self.url.query, "options": f"-csearch_path={schema}"}
        return self.url.set(query=query).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        """Drop the schema of ``url`` (made by :meth:`fresh_url`) with what is in it.

        Connections still open to it do not stop this, unless one of them holds a lock
        in it: the schema is then left to go with the scratch database.
        """
        schema = str(sa.engine.make_url(url).query["options"]).split("=", 1)[1]
        try:
            with self._scratch.connect() as conn:
                conn.exec_driver_sql("SET lock_timeout = '5s'")
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        except sa.exc.OperationalError:
            pass  # a lock held by a store the test left open

    def close(self) -> None:
        """Drop the scratch database, ending the connections still open to it."""
        self._scratch.dispose()
        with self._admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self._admin.dispose()


def _create_database(conn: Any, name: str) -> str:
    """Create the database ``name``, with ICU's en-US as its default collation where the
    server has ICU (PostgreSQL 15 or newer): servers are often set up with such a
    collation, under which ``B`` sorts after ``a`` and ``-`` before digits, and the store
    must not depend on it. Returns the collation used."""
    try:
        conn.exec_driver_sql(
            f"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
        )
        return "en-US (ICU)"
    except sa.exc.DBAPIError:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        return "the server's default"


def _autocommit_engine(url: sa.URL) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def _drop_databases_of_dead_sessions(conn: Any) -> None:
    """Drop the scratch databases left by test sessions that were killed."""
    for (name,) in conn.exec_driver_sql(
        "SELECT datname FROM pg_database WHERE datname LIKE %(p)s", {"p": f"{_PREFIX}%"}
    ).all():
        pid = name[len(_PREFIX) :].split("_", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fresh_postgres_url(request: Any) -> str:
    """The URL of an empty PostgreSQL database for the test (or fixture) of ``request``,
    dropped after it; skips when no server is configured."""
    databases: PostgresDatabases = request.getfixturevalue("postgres")
    url = databases.fresh_url()
    request.addfinalizer(lambda: databases.drop(url))
    return url
