"""The model registry's store interface.

One abstract class, one written contract per method. It is implemented by the SQL
store (:class:`cadenza.store.registry_sql.SqlRegistryMixin`, inherited by
:class:`~cadenza.store.sql.SqlStore`) and, against a cadenza server, by
:class:`cadenza.client.http_registry.HttpRegistryStore`; the contract tests in
``tests/store/test_registry_contract.py`` run against both.

Registry writes are direct transactions, not events through the reporter: they are
rare, and the caller wants the version number back.

Names of models are 1 to 255 characters with no ``/``, ``@`` or ``:`` (they are part
of ``models:/NAME/VERSION`` and ``models:/NAME@ALIAS``), no control characters and no
space at either end. Aliases are letters, digits, ``_`` and ``-``, not starting with a
digit nor ``v`` and a digit (``v3`` reads as a version), and not ``latest``.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cadenza.registry.entities import LoggedModel, ModelVersion, RegisteredModel, Transition


class RegistryStore(abc.ABC):
    """Where registered models, their versions, aliases and stages are kept."""

    # -- registered models ---------------------------------------------------------------
    @abc.abstractmethod
    def create_registered_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> RegisteredModel:
        """Create a registered model without versions and return it.

        Raises:
            ModelAlreadyExistsError: a model with this name exists.
            InvalidModelError: the name or a tag is not valid.
        """

    @abc.abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel:
        """The registered model with this name, its tags, aliases and latest versions.

        Raises:
            ModelNotFoundError: no model has this name (the message names some that
                exist).
        """

    @abc.abstractmethod
    def search_registered_models(
        self,
        *,
        name_like: str | None = None,
        tags: Mapping[str, str] | None = None,
        limit: int = 100,
        after_name: str | None = None,
    ) -> list[RegisteredModel]:
        """Registered models by name, at most ``limit``.

        ``name_like`` is an SQL ``LIKE`` pattern compared without regard to case
        (``%`` any text, ``_`` one character); ``tags`` are tags the models must all
        have with these values. ``after_name`` is a cursor: only models whose name
        comes after it. Returns an empty list when nothing matches.
        """

    @abc.abstractmethod
    def update_registered_model(self, name: str, *, description: str | None) -> RegisteredModel:
        """Set the description of a registered model; returns the model.

        Raises:
            ModelNotFoundError: no model has this name.
        """

    @abc.abstractmethod
    def delete_registered_model(self, name: str) -> None:
        """Delete a registered model with its versions, tags, aliases and history.

        The files of its versions (run artifacts) are left alone.

        Raises:
            ModelNotFoundError: no model has this name.
        """

    @abc.abstractmethod
    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        """Set a tag of a registered model (replacing its value if it has the tag).

        Raises:
            ModelNotFoundError: no model has this name.
            InvalidModelError: the key is empty or too long.
        """

    @abc.abstractmethod
    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove a tag of a registered model; nothing happens if it has no such tag.

        Raises:
            ModelNotFoundError: no model has this name.
        """

    # -- versions ------------------------------------------------------------------------
    @abc.abstractmethod
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
        """Add the next version of a registered model and return it.

        Versions are numbered 1, 2, 3... in the transaction that creates them: two
        processes creating versions of one model at once get different numbers. A
        deleted version's number is not given again. The new version's stage is
        ``None`` and its status ``READY``.

        Raises:
            ModelNotFoundError: no model has this name (create it first, or call
                :func:`cadenza.register_model`, which does).
            InvalidModelError: the source is empty or a tag is not valid.
        """

    @abc.abstractmethod
    def get_model_version(self, name: str, version: int) -> ModelVersion:
        """One version of a registered model, with its tags and aliases.

        Raises:
            ModelNotFoundError: no model has this name.
            ModelVersionNotFoundError: the model has no such version (the message
                names the versions it has).
        """

    @abc.abstractmethod
    def search_model_versions(
        self,
        *,
        name: str | None = None,
        run_id: str | None = None,
        flow_run_id: str | None = None,
        stage: str | None = None,
        limit: int = 100,
    ) -> list[ModelVersion]:
        """Versions matching every filter given, newest first (by model, then version).

        ``run_id`` matches the run that logged the model; ``flow_run_id`` the flow run
        it belongs to. Returns an empty list when nothing matches, also for an unknown
        model name.
        """

    @abc.abstractmethod
    def update_model_version(
        self, name: str, version: int, *, description: str | None
    ) -> ModelVersion:
        """Set the description of a version; returns the version.

        Raises:
            ModelNotFoundError, ModelVersionNotFoundError: as :meth:`get_model_version`.
        """

    @abc.abstractmethod
    def delete_model_version(self, name: str, version: int) -> None:
        """Delete a version with its tags and the aliases pointing at it. Its history
        is kept.

        Raises:
            ModelNotFoundError, ModelVersionNotFoundError: as :meth:`get_model_version`.
        """

    @abc.abstractmethod
    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        """Set a tag of a version (replacing its value if it has the tag).

        Raises:
            ModelNotFoundError, ModelVersionNotFoundError: as :meth:`get_model_version`.
            InvalidModelError: the key is empty or too long.
        """

    @abc.abstractmethod
    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        """Remove a tag of a version; nothing happens if it has no such tag.

        Raises:
            ModelNotFoundError, ModelVersionNotFoundError: as :meth:`get_model_version`.
        """

    # -- stages ----------------------------------------------------------------------------
    @abc.abstractmethod
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
        """Move a version to ``stage`` (None, Staging, Production or Archived, any case)
        and return it.

        With ``archive_existing_versions``, the other versions in that stage move to
        Archived in the same transaction (only for Staging and Production). Every
        change is recorded in the history with ``user`` and ``comment``; moving a
        version to the stage it is in records nothing.

        Raises:
            ModelNotFoundError, ModelVersionNotFoundError: as :meth:`get_model_version`.
            InvalidModelError: not a stage, or ``archive_existing_versions`` with a
                stage other than Staging and Production.
        """

    @abc.abstractmethod
    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The highest version in each of ``stages`` (every stage when None), in the
        order of the stages; stages without versions are left out.

        Raises:
            ModelNotFoundError: no model has this name.
            InvalidModelError: a stage is not one.
        """

    # -- aliases ---------------------------------------------------------------------------
    @abc.abstractmethod
    def set_registered_model_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        user: str | None = None,
        comment: str | None = None,
    ) -> None:
        """Point ``alias`` at ``version``, moving it from the version it pointed at.

        The move is recorded in the history; pointing it where it points records
        nothing.

        Raises:
            ModelNotFoundError, ModelVersionNotFoundError: as :meth:`get_model_version`.
            InvalidModelError: the alias is not valid (see the module's docstring).
        """

    @abc.abstractmethod
    def delete_registered_model_alias(
        self,
        name: str,
        alias: str,
        *,
        user: str | None = None,
        comment: str | None = None,
    ) -> None:
        """Remove an alias (recorded in the history).

        Raises:
            ModelNotFoundError: no model has this name.
            ModelVersionNotFoundError: the model has no such alias (the message names
                its aliases).
        """

    @abc.abstractmethod
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``alias`` points at.

        Raises:
            ModelNotFoundError: no model has this name.
            ModelVersionNotFoundError: the model has no such alias (the message names
                its aliases).
        """

    @abc.abstractmethod
    def list_transitions(
        self, name: str, *, version: int | None = None, limit: int = 1000
    ) -> list[Transition]:
        """The history of a model's stages and aliases, oldest first, at most ``limit``
        (the newest ``limit`` when there are more); only one version's with ``version``.

        Raises:
            ModelNotFoundError: no model has this name.
        """

    # -- models logged by runs --------------------------------------------------------------
    @abc.abstractmethod
    def record_logged_model(self, model: LoggedModel) -> None:
        """Record that a run logged a model; logging again at the same path replaces
        the record."""

    @abc.abstractmethod
    def list_logged_models(self, run_id: str) -> list[LoggedModel]:
        """The models logged by a run, oldest first: for a flow run, also those of its
        task runs. Returns an empty list for an unknown run."""
