"""The model registry in the SQL store: a mixin that :class:`~cadenza.store.sql.SqlStore`
inherits, written against the tables of :mod:`cadenza.store.schema`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cadenza.exceptions import (
    InvalidModelError,
    ModelAlreadyExistsError,
    ModelNotFoundError,
    ModelVersionNotFoundError,
)
from cadenza.registry import validate
from cadenza.store.registry_base import RegistryStore
from cadenza.store.schema import (
    logged_models,
    model_transitions,
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)

if TYPE_CHECKING:
    from cadenza.registry.entities import LoggedModel, ModelVersion, RegisteredModel, Transition

T = TypeVar("T")
_NAMES_SHOWN = 10

rm = registered_models
mv = model_versions


class SqlRegistryMixin(RegistryStore):
    """The :class:`RegistryStore` methods of the SQL store.

    It needs the store's ``_transaction`` (a write transaction retried while the
    database is busy) and ``_read`` (a read connection). On SQLite a write transaction
    holds the write lock from its start (``BEGIN IMMEDIATE``), on PostgreSQL the row of
    the registered model is locked (``SELECT ... FOR UPDATE``): either way two writers
    numbering versions of one model take turns.
    """

    _transaction: Callable[..., Any]
    _read: Callable[[], AbstractContextManager[Connection]]

    # -- registered models ---------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> RegisteredModel:
        name = validate.model_name(name)
        tag_values = validate.tags(tags)
        now = time.time()

        def create(conn: Connection) -> None:
            if _model_row(conn, name, lock=True) is not None:
                raise ModelAlreadyExistsError(
                    f"A registered model named {name!r} exists already; register a new "
                    "version of it with register_model or create_model_version."
                )
            conn.execute(
                rm.insert().values(
                    name=name, description=description, last_version=0, created=now, updated=now
                )
            )
            _put_tags(conn, registered_model_tags, {"name": name}, tag_values)

        self._transaction(create)
        return self.get_registered_model(name)

    def get_registered_model(self, name: str) -> RegisteredModel:
        with self._read() as conn:
            row = _model_row(conn, name)
            if row is None:
                raise ModelNotFoundError(_missing_model(conn, name))
            return _models_from_rows(conn, [row])[0]

    def search_registered_models(
        self,
        *,
        name_like: str | None = None,
        tags: Mapping[str, str] | None = None,
        limit: int = 100,
        after_name: str | None = None,
    ) -> list[RegisteredModel]:
        if limit <= 0:
            return []
        query = sa.select(rm)
        if name_like is not None:
            query = query.where(sa.func.lower(rm.c.name).like(name_like.lower()))
        for key, value in (tags or {}).items():
            t = registered_model_tags
            query = query.where(
                sa.exists().where(t.c.name == rm.c.name, t.c.key == key, t.c.value == str(value))
            )
        if after_name is not None:
            query = query.where(rm.c.name > after_name)
        query = query.order_by(rm.c.name).limit(limit)
        with self._read() as conn:
            return _models_from_rows(conn, list(conn.execute(query)))

    def update_registered_model(self, name: str, *, description: str | None) -> RegisteredModel:
        def update(conn: Connection) -> None:
            _require_model(conn, name)
            conn.execute(
                rm.update()
                .where(rm.c.name == name)
                .values(description=description, updated=time.time())
            )

        self._transaction(update)
        return self.get_registered_model(name)

    def delete_registered_model(self, name: str) -> None:
        def delete(conn: Connection) -> None:
            _require_model(conn, name)
            # Children first: ON DELETE CASCADE needs SQLite's foreign_keys on, which a
            # connection opened elsewhere may not have.
            for table in (
                registered_model_aliases,
                model_version_tags,
                model_versions,
                registered_model_tags,
                model_transitions,
            ):
                conn.execute(table.delete().where(table.c.name == name))
            conn.execute(rm.delete().where(rm.c.name == name))

        self._transaction(delete)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        key = validate.tag_key(key)

        def put(conn: Connection) -> None:
            _require_model(conn, name)
            _put_tags(conn, registered_model_tags, {"name": name}, {key: str(value)})
            _touch(conn, name)

        self._transaction(put)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        def delete(conn: Connection) -> None:
            _require_model(conn, name)
            t = registered_model_tags
            conn.execute(t.delete().where(t.c.name == name, t.c.key == key))

        self._transaction(delete)

    # -- versions ------------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        *,
        run_id: str | None = None,
        flow_run_id: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        code_version: str | None = None,
        signature: Mapping[str, Any] | None = None,
        user: str | None = None,
    ) -> ModelVersion:
        if not isinstance(source, str) or not source.strip():
            raise InvalidModelError(
                "A model version needs a source: the URI of the model's files, such as "
                "runs:/RUN_ID/model.",
                field="source",
            )
        tag_values = validate.tags(tags)
        signature_text = json.dumps(dict(signature)) if signature else None
        now = time.time()

        def create(conn: Connection) -> int:
            row = _model_row(conn, name, lock=True)
            if row is None:
                raise ModelNotFoundError(_missing_model(conn, name))
            number = int(row.last_version) + 1
            conn.execute(
                rm.update().where(rm.c.name == name).values(last_version=number, updated=now)
            )
            conn.execute(
                mv.insert().values(
                    name=name,
                    version=number,
                    source=source,
                    run_id=run_id,
                    flow_run_id=flow_run_id,
                    status="READY",
                    stage="None",
                    description=description,
                    code_version=code_version,
                    signature=signature_text,
                    user_id=user,
                    created=now,
                    updated=now,
                )
            )
            _put_tags(conn, model_version_tags, {"name": name, "version": number}, tag_values)
            return number

        number: int = self._transaction(create)
        return self.get_model_version(name, number)

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        version = validate.version(version)
        with self._read() as conn:
            row = conn.execute(
                sa.select(mv).where(mv.c.name == name, mv.c.version == version)
            ).first()
            if row is None:
                _require_model(conn, name)
                raise ModelVersionNotFoundError(_missing_version(conn, name, f"version {version}"))
            return _versions_from_rows(conn, [row])[0]

    def search_model_versions(
        self,
        *,
        name: str | None = None,
        run_id: str | None = None,
        flow_run_id: str | None = None,
        stage: str | None = None,
        limit: int = 100,
    ) -> list[ModelVersion]:
        if limit <= 0:
            return []
        query = sa.select(mv)
        if name is not None:
            query = query.where(mv.c.name == name)
        if run_id is not None:
            query = query.where(mv.c.run_id == run_id)
        if flow_run_id is not None:
            query = query.where(mv.c.flow_run_id == flow_run_id)
        if stage is not None:
            from cadenza.registry.entities import canonical_stage

            query = query.where(mv.c.stage == canonical_stage(stage))
        query = query.order_by(mv.c.name, mv.c.version.desc()).limit(limit)
        with self._read() as conn:
            return _versions_from_rows(conn, list(conn.execute(query)))

    def update_model_version(
        self, name: str, version: int, *, description: str | None
    ) -> ModelVersion:
        version = validate.version(version)

        def update(conn: Connection) -> None:
            _require_version(conn, name, version)
            conn.execute(
                mv.update()
                .where(mv.c.name == name, mv.c.version == version)
                .values(description=description, updated=time.time())
            )

        self._transaction(update)
        return self.get_model_version(name, version)

    def delete_model_version(self, name: str, version: int) -> None:
        version = validate.version(version)

        def delete(conn: Connection) -> None:
            _require_version(conn, name, version)
            for table in (registered_model_aliases, model_version_tags, mv):
                conn.execute(table.delete().where(table.c.name == name, table.c.version == version))
            _touch(conn, name)

        self._transaction(delete)

    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        version = validate.version(version)
        key = validate.tag_key(key)

        def put(conn: Connection) -> None:
            _require_version(conn, name, version)
            _put_tags(conn, model_version_tags, {"name": name, "version": version}, {key: value})

        self._transaction(put)

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        version = validate.version(version)

        def delete(conn: Connection) -> None:
            _require_version(conn, name, version)
            t = model_version_tags
            conn.execute(t.delete().where(t.c.name == name, t.c.version == version, t.c.key == key))

        self._transaction(delete)

    # -- stages ----------------------------------------------------------------------------
    def transition_model_version_stage(
        self,
        name: str,
        version: int,
        stage: str,
        *,
        archive_existing_versions: bool = False,
        user: str | None = None,
        comment: str | None = None,
    ) -> ModelVersion:
        from cadenza.registry.entities import canonical_stage

        version = validate.version(version)
        target = canonical_stage(stage)
        if archive_existing_versions and target not in ("Staging", "Production"):
            raise InvalidModelError(
                f"archive_existing_versions only applies to the stages Staging and "
                f"Production, not {target}.",
                field="archive_existing_versions",
            )
        now = time.time()

        def move(conn: Connection) -> None:
            row = _require_version(conn, name, version, lock=True)
            moves: list[tuple[int, str]] = []
            if row.stage != target:
                moves.append((version, row.stage))
            if archive_existing_versions:
                others = conn.execute(
                    sa.select(mv.c.version, mv.c.stage)
                    .where(mv.c.name == name, mv.c.stage == target, mv.c.version != version)
                    .order_by(mv.c.version)
                ).all()
                for other, _ in others:
                    conn.execute(
                        mv.update()
                        .where(mv.c.name == name, mv.c.version == other)
                        .values(stage="Archived", updated=now)
                    )
                    why = f"archived: version {version} moved to {target}"
                    _record(conn, name, other, "stage", target, "Archived", user, why, now)
            for number, before in moves:
                conn.execute(
                    mv.update()
                    .where(mv.c.name == name, mv.c.version == number)
                    .values(stage=target, updated=now)
                )
                _record(conn, name, number, "stage", before, target, user, comment, now)
            if moves or archive_existing_versions:
                _touch(conn, name, now)

        self._transaction(move)
        return self.get_model_version(name, version)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        from cadenza.registry.entities import STAGES, canonical_stage

        wanted = list(STAGES) if not stages else [canonical_stage(s) for s in stages]
        with self._read() as conn:
            _require_model(conn, name)
            query = (
                sa.select(mv.c.stage, sa.func.max(mv.c.version))
                .where(mv.c.name == name, mv.c.stage.in_(wanted))
                .group_by(mv.c.stage)
            )
            latest = dict(conn.execute(query).all())
            numbers = [latest[s] for s in dict.fromkeys(wanted) if s in latest]
            if not numbers:
                return []
            rows = conn.execute(
                sa.select(mv).where(mv.c.name == name, mv.c.version.in_(numbers))
            ).all()
            found = {v.version: v for v in _versions_from_rows(conn, rows)}
        return [found[n] for n in numbers if n in found]

    # -- aliases ---------------------------------------------------------------------------
    def set_registered_model_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        user: str | None = None,
        comment: str | None = None,
    ) -> None:
        alias = validate.alias(alias)
        version = validate.version(version)
        a = registered_model_aliases
        now = time.time()

        def put(conn: Connection) -> None:
            _require_version(conn, name, version, lock=True)
            before = conn.execute(
                sa.select(a.c.version).where(a.c.name == name, a.c.alias == alias)
            ).scalar()
            if before == version:
                return
            if before is None:
                conn.execute(a.insert().values(name=name, alias=alias, version=version))
            else:
                conn.execute(
                    a.update().where(a.c.name == name, a.c.alias == alias).values(version=version)
                )
            old = None if before is None else str(before)
            _record(conn, name, version, "alias", old, str(version), user, comment, now, alias)
            _touch(conn, name, now)

        self._transaction(put)

    def delete_registered_model_alias(
        self,
        name: str,
        alias: str,
        *,
        user: str | None = None,
        comment: str | None = None,
    ) -> None:
        a = registered_model_aliases
        now = time.time()

        def delete(conn: Connection) -> None:
            _require_model(conn, name, lock=True)
            before = conn.execute(
                sa.select(a.c.version).where(a.c.name == name, a.c.alias == alias)
            ).scalar()
            if before is None:
                raise ModelVersionNotFoundError(_missing_alias(conn, name, alias))
            conn.execute(a.delete().where(a.c.name == name, a.c.alias == alias))
            _record(conn, name, before, "alias", str(before), None, user, comment, now, alias)
            _touch(conn, name, now)

        self._transaction(delete)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        a = registered_model_aliases
        with self._read() as conn:
            number = conn.execute(
                sa.select(a.c.version).where(a.c.name == name, a.c.alias == alias)
            ).scalar()
            if number is None:
                _require_model(conn, name)
                raise ModelVersionNotFoundError(_missing_alias(conn, name, alias))
            row = conn.execute(
                sa.select(mv).where(mv.c.name == name, mv.c.version == number)
            ).first()
            return _versions_from_rows(conn, [row])[0]

    def list_transitions(
        self, name: str, *, version: int | None = None, limit: int = 1000
    ) -> list[Transition]:
        from cadenza.registry.entities import Transition

        t = model_transitions
        query = sa.select(t).where(t.c.name == name)
        if version is not None:
            query = query.where(t.c.version == validate.version(version))
        query = query.order_by(t.c.id.desc()).limit(max(limit, 0))
        with self._read() as conn:
            _require_model(conn, name)
            found = conn.execute(query).all()
        return [
            Transition(
                name=r.name,
                version=r.version,
                kind=r.kind,
                from_value=r.from_value,
                to_value=r.to_value,
                user=r.user_id,
                timestamp=r.timestamp,
                alias=r.alias,
                comment=r.comment,
                id=r.id,
            )
            for r in reversed(found)
        ]

    # -- models logged by runs --------------------------------------------------------------
    def record_logged_model(self, model: LoggedModel) -> None:
        t = logged_models
        values = {
            "run_id": model.run_id,
            "artifact_path": model.artifact_path,
            "flow_run_id": model.flow_run_id,
            "flavors": json.dumps(list(model.flavors)),
            "signature": json.dumps(model.signature) if model.signature else None,
            "requirements": json.dumps(list(model.requirements)),
            "code_version": model.code_version,
            "created": model.created or time.time(),
        }

        def put(conn: Connection) -> None:
            conn.execute(
                t.delete().where(
                    t.c.run_id == model.run_id, t.c.artifact_path == model.artifact_path
                )
            )
            conn.execute(t.insert().values(**values))

        self._transaction(put)

    def list_logged_models(self, run_id: str) -> list[LoggedModel]:
        from cadenza.registry.entities import LoggedModel

        t = logged_models
        query = (
            sa.select(t)
            .where(sa.or_(t.c.run_id == run_id, t.c.flow_run_id == run_id))
            .order_by(t.c.created, t.c.artifact_path)
        )
        with self._read() as conn:
            return [
                LoggedModel(
                    run_id=r.run_id,
                    artifact_path=r.artifact_path,
                    flow_run_id=r.flow_run_id,
                    flavors=json.loads(r.flavors),
                    signature=json.loads(r.signature) if r.signature else None,
                    requirements=json.loads(r.requirements),
                    code_version=r.code_version,
                    created=r.created,
                )
                for r in conn.execute(query)
            ]


# -- helpers -------------------------------------------------------------------------------
def _model_row(conn: Connection, name: str, *, lock: bool = False) -> Any:
    query = sa.select(rm).where(rm.c.name == name)
    if lock:
        query = query.with_for_update()  # PostgreSQL: lock the row; SQLite holds the lock
    return conn.execute(query).first()


def _require_model(conn: Connection, name: str, *, lock: bool = False) -> Any:
    row = _model_row(conn, name, lock=lock)
    if row is None:
        raise ModelNotFoundError(_missing_model(conn, name))
    return row


def _require_version(conn: Connection, name: str, version: int, *, lock: bool = False) -> Any:
    query = sa.select(mv).where(mv.c.name == name, mv.c.version == version)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        _require_model(conn, name)
        raise ModelVersionNotFoundError(_missing_version(conn, name, f"version {version}"))
    return row


def _missing_model(conn: Connection, name: str) -> str:
    names = list(
        conn.execute(sa.select(rm.c.name).order_by(rm.c.name).limit(_NAMES_SHOWN + 1)).scalars()
    )
    if not names:
        return (
            f"There is no registered model {name!r}: no model is registered yet. Register "
            "one with cadenza.register_model or log_model(..., registered_model_name=...)."
        )
    shown = ", ".join(repr(n) for n in names[:_NAMES_SHOWN])
    more = " and more" if len(names) > _NAMES_SHOWN else ""
    return f"There is no registered model {name!r}; the registered models are {shown}{more}."


def _missing_version(conn: Connection, name: str, what: str) -> str:
    numbers = list(
        conn.execute(
            sa.select(mv.c.version).where(mv.c.name == name).order_by(mv.c.version)
        ).scalars()
    )
    if not numbers:
        return f"Model {name!r} has no {what}: it has no versions yet."
    return f"Model {name!r} has no {what}; its versions are {_ranges(numbers)}."


def _missing_alias(conn: Connection, name: str, alias: str) -> str:
    a = registered_model_aliases
    found = conn.execute(
        sa.select(a.c.alias, a.c.version).where(a.c.name == name).order_by(a.c.alias)
    ).all()
    if not found:
        return f"Model {name!r} has no alias {alias!r}: it has no aliases."
    listed = ", ".join(f"{al} (version {v})" for al, v in found)
    return f"Model {name!r} has no alias {alias!r}; its aliases are {listed}."


def _ranges(numbers: list[int]) -> str:
    """``1-3, 5, 7-9`` for [1, 2, 3, 5, 7, 8, 9]."""
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)


def _touch(conn: Connection, name: str, now: float | None = None) -> None:
    conn.execute(rm.update().where(rm.c.name == name).values(updated=now or time.time()))


def _put_tags(
    conn: Connection, table: sa.Table, keys: dict[str, Any], values: Mapping[str, str]
) -> None:
    for key, value in values.items():
        where = [table.c[k] == v for k, v in keys.items()] + [table.c.key == key]
        conn.execute(table.delete().where(*where))
        conn.execute(table.insert().values(**keys, key=key, value=str(value)))


def _record(
    conn: Connection,
    name: str,
    version: int,
    kind: str,
    before: str | None,
    after: str | None,
    user: str | None,
    comment: str | None,
    now: float,
    alias: str | None = None,
) -> None:
    conn.execute(
        model_transitions.insert().values(
            name=name,
            version=version,
            kind=kind,
            alias=alias,
            from_value=before,
            to_value=after,
            user_id=user,
            comment=comment,
            timestamp=now,
        )
    )


def _grouped(rows: Iterable[Any], key: Callable[[Any], Any]) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = {}
    for r in rows:
        out.setdefault(key(r), []).append(r)
    return out


def _chunks(values: list[T], size: int = 400) -> Iterator[list[T]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _versions_from_rows(conn: Connection, rows: Sequence[Any]) -> list[ModelVersion]:
    """Versions of ``rows`` with their tags and aliases, in the order of ``rows``."""
    from cadenza.registry.entities import ModelVersion

    if not rows:
        return []
    names = sorted({r.name for r in rows})
    tags: dict[tuple[str, int], dict[str, str]] = {}
    aliases: dict[tuple[str, int], list[str]] = {}
    t, a = model_version_tags, registered_model_aliases
    for chunk in _chunks(names):
        for r in conn.execute(sa.select(t).where(t.c.name.in_(chunk)).order_by(t.c.key)):
            tags.setdefault((r.name, r.version), {})[r.key] = r.value
        for r in conn.execute(sa.select(a).where(a.c.name.in_(chunk)).order_by(a.c.alias)):
            aliases.setdefault((r.name, r.version), []).append(r.alias)
    return [
        ModelVersion(
            name=r.name,
            version=r.version,
            source=r.source,
            run_id=r.run_id,
            flow_run_id=r.flow_run_id,
            status=r.status,
            current_stage=r.stage,
            description=r.description,
            code_version=r.code_version,
            signature=json.loads(r.signature) if r.signature else None,
            user_id=r.user_id,
            created=r.created,
            updated=r.updated,
            tags=tags.get((r.name, r.version), {}),
            aliases=aliases.get((r.name, r.version), []),
        )
        for r in rows
    ]


def _models_from_rows(conn: Connection, rows: Sequence[Any]) -> list[RegisteredModel]:
    """Registered models of ``rows`` with tags, aliases and latest versions."""
    if not rows:
        return []
    names = [r.name for r in rows]
    tags: dict[str, dict[str, str]] = {}
    aliases: dict[str, dict[str, int]] = {}
    latest_rows: list[Any] = []
    latest_numbers: dict[str, int] = {}
    t, a = registered_model_tags, registered_model_aliases
    for chunk in _chunks(names):
        for r in conn.execute(sa.select(t).where(t.c.name.in_(chunk)).order_by(t.c.key)):
            tags.setdefault(r.name, {})[r.key] = r.value
        for r in conn.execute(sa.select(a).where(a.c.name.in_(chunk)).order_by(a.c.alias)):
            aliases.setdefault(r.name, {})[r.alias] = r.version
        per_stage = (
            sa.select(mv.c.name, mv.c.stage, sa.func.max(mv.c.version).label("v"))
            .where(mv.c.name.in_(chunk))
            .group_by(mv.c.name, mv.c.stage)
            .subquery()
        )
        latest_rows += conn.execute(
            sa.select(mv).join(
                per_stage, sa.and_(per_stage.c.name == mv.c.name, per_stage.c.v == mv.c.version)
            )
        ).all()
    versions = _grouped(_versions_from_rows(conn, latest_rows), lambda v: v.name)
    for name, found in versions.items():
        latest_numbers[name] = max(v.version for v in found)
    from cadenza.registry.entities import STAGES, RegisteredModel

    order = {s: i for i, s in enumerate(STAGES)}
    return [
        RegisteredModel(
            name=r.name,
            description=r.description,
            created=r.created,
            updated=r.updated,
            tags=tags.get(r.name, {}),
            aliases=aliases.get(r.name, {}),
            latest_versions=sorted(
                versions.get(r.name, []), key=lambda v: order.get(v.current_stage, 9)
            ),
            latest_version=latest_numbers.get(r.name),
        )
        for r in rows
    ]
