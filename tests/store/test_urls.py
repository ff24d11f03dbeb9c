"""Database URLs: the driver chosen for PostgreSQL, and a driver that is missing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cadenza.exceptions import StoreError
from cadenza.store import dialects
from cadenza.store.sql import SqlStore


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://user:secret@db.example.com/cadenza",
        "postgres://user:secret@db.example.com/cadenza",
        "postgresql+psycopg://user:secret@db.example.com/cadenza",
    ],
)
def test_postgresql_urls_use_the_psycopg_driver(url: str) -> None:
    engine = dialects.create_engine(url)  # connects only when used
    try:
        assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
        assert engine.url.host == "db.example.com"
    finally:
        engine.dispose()


def test_other_urls_keep_their_driver() -> None:
    url = sa.engine.make_url("sqlite:///cadenza.db")
    assert dialects.postgres_driver(url) is url


def test_a_missing_driver_names_the_extra_to_install() -> None:
    with pytest.raises(StoreError, match=r"not installed.*cadenza\[postgres\]") as info:
        SqlStore("postgresql+pg8000://user:secret@db.example.com/cadenza")
    assert "secret" not in str(info.value)
    assert "postgresql+psycopg://user:password@host:5432/database" in str(info.value)
