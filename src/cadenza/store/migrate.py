"""Schema migrations with Alembic (``cadenza db upgrade``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MIGRATIONS = Path(__file__).with_name("migrations")


def known_revisions() -> list[str]:
    """Revision ids of the migrations shipped with this version, oldest first."""
    return sorted(p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate the database at ``url`` to ``revision``; returns (before, after) revisions."""
    import sqlalchemy as sa
    from alembic import command

    from cadenza.store.dialects import create_engine

    engine = create_engine(url)
    try:
        before = _current(engine, sa)
        command.upgrade(alembic_config(url), revision)
        after = _current(engine, sa)
    finally:
        engine.dispose()
    return before, after


def current_revision(url: str) -> str | None:
    import sqlalchemy as sa

    from cadenza.store.dialects import create_engine

    engine = create_engine(url)
    try:
        return _current(engine, sa)
    finally:
        engine.dispose()


def _current(engine: Any, sa: Any) -> str | None:
    with engine.connect().execution_options(cadenza_readonly=True) as conn:
        if "alembic_version" not in sa.inspect(conn).get_table_names():
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
