"""``RegistryClient``: the registry methods of ``mlflow.MlflowClient``, over the
embedded store or a cadenza server."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cadenza.exceptions import InvalidModelError
from cadenza.registry import validate
from cadenza.registry.stores import current_user

if TYPE_CHECKING:
    from cadenza.registry.entities import (
        LoggedModel,
        ModelVersion,
        RegisteredModel,
        Transition,
    )
    from cadenza.store.registry_base import RegistryStore

_CONDITION = re.compile(
    r"""\s*(?P<field>[A-Za-z_][\w.`-]*)\s*(?P<op>=|!=|\bI?LIKE\b)\s*(?P<q>['"])(?P<value>.*?)(?P=q)\s*""",
    re.IGNORECASE,
)


def _conditions(filter_string: str | None, allowed: Sequence[str]) -> list[tuple[str, str, str]]:
    """``name = 'x' AND tags.k = 'v'`` as [(field, op, value)].

    Raises:
        InvalidModelError: a condition of another form, naming the forms accepted.
    """
    if not filter_string or not filter_string.strip():
        return []
    out = []
    for part in re.split(r"\s+AND\s+", filter_string.strip(), flags=re.IGNORECASE):
        match = _CONDITION.fullmatch(part)
        field = match.group("field").strip("`") if match else ""
        known = field in allowed or (field.startswith("tags.") and "tags" in allowed)
        if match is None or not known:
            raise InvalidModelError(
                f"Cannot read the filter {part.strip()!r}: cadenza understands conditions "
                f"joined by AND on {', '.join(allowed)} (tags as tags.KEY = 'value'), such "
                "as \"name LIKE 'taxi%'\".",
                field="filter_string",
            )
        out.append((field, match.group("op").upper(), match.group("value")))
    return out


class RegistryClient:
    """The model registry's explicit client, with ``MlflowClient``'s registry methods.

    Args:
        registry_uri: a cadenza server (``http://host:4200``) or a database URL; by
            default ``CADENZA_API_URL`` when set, else the embedded database.

    Example:
        >>> client = RegistryClient()
        >>> client.set_registered_model_alias("taxi-duration", "champion", 3)
        >>> client.get_model_version_by_alias("taxi-duration", "champion").version
        3
    """

    def __init__(self, registry_uri: str | None = None) -> None:
        self._registry_uri = registry_uri

    def _registry_store(self) -> RegistryStore:
        """The store every method uses (override to choose another)."""
        from cadenza.registry.stores import registry_store

        # getattr: a subclass with an __init__ of its own may not set it.
        return registry_store(getattr(self, "_registry_uri", None))

    # -- registered models ---------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: dict[str, str] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        """Create a registered model without versions.

        Raises:
            ModelAlreadyExistsError: one has this name.
        """
        return self._registry_store().create_registered_model(
            name, description=description, tags=tags
        )

    def get_registered_model(self, name: str) -> RegisteredModel:
        """The registered model ``name``, with tags, aliases and latest versions.

        Raises:
            ModelNotFoundError: none has this name (the message lists those that exist).
        """
        return self._registry_store().get_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
    ) -> list[RegisteredModel]:
        """Registered models by name, filtered as MLflow's: ``"name = 'taxi'"``,
        ``"name LIKE 'taxi%'"`` (any case), ``"tags.team = 'pricing'"``, joined by AND."""
        name_like = None
        tags: dict[str, str] = {}
        exact: list[str] = []
        for field, op, value in _conditions(filter_string, ("name", "tags")):
            if field.startswith("tags."):
                tags[field.removeprefix("tags.")] = value
            elif op in ("LIKE", "ILIKE"):
                name_like = value
            elif op == "=":
                exact.append(value)
            else:
                raise InvalidModelError(
                    "Models can be filtered by name with = or LIKE, not !=.",
                    field="filter_string",
                )
        store = self._registry_store()
        if exact:
            from cadenza.exceptions import ModelNotFoundError

            try:
                model = store.get_registered_model(exact[0])
            except ModelNotFoundError:
                return []
            ok = all(model.tags.get(k) == v for k, v in tags.items())
            return [model] if ok and all(e == model.name for e in exact) else []
        return store.search_registered_models(
            name_like=name_like, tags=tags or None, limit=max_results
        )

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        """Set the description of a registered model."""
        return self._registry_store().update_registered_model(name, description=description)

    def delete_registered_model(self, name: str) -> None:
        """Delete a registered model with all its versions (their files stay)."""
        self._registry_store().delete_registered_model(name)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self._registry_store().set_registered_model_tag(name, key, str(value))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._registry_store().delete_registered_model_tag(name, key)

    # -- versions ------------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: dict[str, str] | None = None,
        run_link: str | None = None,
        description: str | None = None,
    ) -> ModelVersion:
        """Add the next version of ``name`` from the model files at ``source``.

        For a ``runs:/`` source logged by ``log_model``, the run, its flow run, the code
        version and the signature are recorded as :func:`cadenza.register_model` does.
        ``run_link`` is accepted for MLflow's sake.
        """
        from cadenza.registry.fluent import _source_details

        store = self._registry_store()
        try:
            resolved, details = _source_details(store, source)
        except InvalidModelError:
            resolved, details = source, {}
        if run_id is not None:
            details["run_id"] = run_id
        return store.create_model_version(
            name,
            resolved,
            tags=tags,
            description=description,
            user=current_user(),
            **details,
        )

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """One version of a model.

        Raises:
            ModelNotFoundError, ModelVersionNotFoundError: naming what exists.
        """
        return self._registry_store().get_model_version(name, validate.version(version))

    def search_model_versions(
        self, filter_string: str | None = None, max_results: int = 100
    ) -> list[ModelVersion]:
        """Versions filtered as MLflow's: ``"name = 'taxi'"``, ``"run_id = '...'"``,
        ``"flow_run_id = '...'"``, ``"current_stage = 'Production'"``, joined by AND."""
        filters: dict[str, str] = {}
        names = {"name": "name", "run_id": "run_id", "flow_run_id": "flow_run_id"}
        for field, op, value in _conditions(filter_string, (*names, "current_stage")):
            if op != "=":
                raise InvalidModelError(
                    f"Versions can be filtered with = only, not {op}.", field="filter_string"
                )
            filters["stage" if field == "current_stage" else names[field]] = value
        return self._registry_store().search_model_versions(limit=max_results, **filters)

    def update_model_version(
        self, name: str, version: int | str, description: str | None = None
    ) -> ModelVersion:
        return self._registry_store().update_model_version(
            name, validate.version(version), description=description
        )

    def delete_model_version(self, name: str, version: int | str) -> None:
        self._registry_store().delete_model_version(name, validate.version(version))

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None:
        self._registry_store().set_model_version_tag(
            name, validate.version(version), key, str(value)
        )

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        self._registry_store().delete_model_version_tag(name, validate.version(version), key)

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """Where the files of a version are (its source)."""
        return self.get_model_version(name, version).source

    # -- stages ----------------------------------------------------------------------------
    def transition_model_version_stage(
        self,
        name: str,
        version: int | str,
        stage: str,
        archive_existing_versions: bool = False,
        *,
        user: str | None = None,
        comment: str | None = None,
    ) -> ModelVersion:
        """Move a version to a stage (None, Staging, Production, Archived); with
        ``archive_existing_versions``, the versions in that stage move to Archived.
        Recorded in the history with ``user`` (default: the OS user) and ``comment``."""
        return self._registry_store().transition_model_version_stage(
            name,
            validate.version(version),
            stage,
            archive_existing_versions=archive_existing_versions,
            user=user or current_user(),
            comment=comment,
        )

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The newest version in each stage (of ``stages``, or of every stage)."""
        return self._registry_store().get_latest_versions(name, stages)

    # -- aliases ---------------------------------------------------------------------------
    def set_registered_model_alias(
        self,
        name: str,
        alias: str,
        version: int | str,
        *,
        user: str | None = None,
        comment: str | None = None,
    ) -> None:
        """Point ``alias`` (``champion``, ``challenger``...) at ``version``."""
        self._registry_store().set_registered_model_alias(
            name, alias, validate.version(version), user=user or current_user(), comment=comment
        )

    def delete_registered_model_alias(
        self, name: str, alias: str, *, user: str | None = None, comment: str | None = None
    ) -> None:
        self._registry_store().delete_registered_model_alias(
            name, alias, user=user or current_user(), comment=comment
        )

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._registry_store().get_model_version_by_alias(name, alias)

    # -- history and lineage ------------------------------------------------------------------
    def get_model_history(self, name: str, version: int | str | None = None) -> list[Transition]:
        """Who moved which stage or alias of ``name`` when, and why; oldest first."""
        number = None if version is None else validate.version(version)
        return self._registry_store().list_transitions(name, version=number)

    def list_logged_models(self, run_id: str) -> list[LoggedModel]:
        """The models a run (or the task runs of a flow run) logged."""
        return self._registry_store().list_logged_models(run_id)
