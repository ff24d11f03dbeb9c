"""The queries of the ``artifacts`` table, and artifacts from its rows."""

from __future__ import annotations

import functools
import json
from typing import Any

import sqlalchemy as sa

from cadenza.runs import Artifact
from cadenza.store.schema import artifacts


@functools.cache
def _version() -> Any:
    """An artifact's rank among those of its key, oldest first, from 1 (0 without a key);
    built when first queried, not when the store is imported."""
    older = artifacts.alias("older")
    return (
        sa.select(sa.func.count())
        .select_from(older)
        .where(older.c.key == artifacts.c.key, older.c.id <= artifacts.c.id)
        .correlate(artifacts)
        .scalar_subquery()
        .label("version")
    )


def select() -> sa.Select[Any]:
    """Every column of ``artifacts`` and each row's version."""
    return sa.select(*artifacts.c, _version())


def listing(
    *,
    key: str | None,
    flow_run_id: str | None,
    task_run_id: str | None,
    latest_only: bool,
) -> sa.Select[Any]:
    """Artifacts matching every filter given; see ``RunStore.list_artifacts``."""
    query = select()
    newer = artifacts.alias("newer")
    newer_query = sa.select(newer.c.id).where(
        newer.c.key == artifacts.c.key, newer.c.id > artifacts.c.id
    )
    for column, value in (
        ("key", key),
        ("flow_run_id", flow_run_id),
        ("task_run_id", task_run_id),
    ):
        if value is not None:
            query = query.where(artifacts.c[column] == value)
            newer_query = newer_query.where(newer.c[column] == value)
    if latest_only:
        # No newer artifact with the same key among those matching the filters.
        query = query.where(~newer_query.correlate(artifacts).exists())
    return query


def from_row(r: Any) -> Artifact:
    return Artifact(
        id=r.id,
        type=r.type,
        data=json.loads(r.data),
        key=r.key,
        description=r.description,
        flow_run_id=r.flow_run_id,
        task_run_id=r.task_run_id,
        created=r.created,
        version=r.version or None,
    )
