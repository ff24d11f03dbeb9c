"""``log_model``, ``register_model`` and ``load_model``: the registry's functions for code
inside flows and tasks, with MLflow's names and meanings."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from cadenza.exceptions import InvalidModelError

if TYPE_CHECKING:
    from types import ModuleType

    from cadenza.registry import uri
    from cadenza.registry.descriptor import ModelDescriptor
    from cadenza.registry.entities import ModelVersion
    from cadenza.registry.pyfunc import PyFuncModel
    from cadenza.store.registry_base import RegistryStore

# Everything else is imported inside the functions: ``import cadenza`` imports this
# module, and must stay cheap.

logger = logging.getLogger("cadenza.registry")


@dataclasses.dataclass(slots=True)
class ModelInfo:
    """What :func:`log_model` saved: where, in which flavors, with which signature."""

    model_uri: str
    """``runs:/RUN_ID/NAME``, to load or register the model."""
    run_id: str
    flow_run_id: str | None
    artifact_path: str
    flavors: dict[str, dict[str, Any]]
    signature: dict[str, Any] | None
    requirements: list[str]
    code_version: str | None
    model_uuid: str
    utc_time_created: str
    metadata: dict[str, Any] | None = None
    registered_model_version: int | None = None
    """The version registered with ``registered_model_name``, else None."""


def _current_run() -> tuple[str, str | None, Any]:
    """(run id, flow run id, the flow) of the calling flow run or task run."""
    from cadenza.context import FlowRunContext, TaskRunContext

    task_ctx = TaskRunContext.get()
    flow_ctx = FlowRunContext.get()
    flow = flow_ctx.flow if flow_ctx is not None else None
    if task_ctx is not None:
        return task_ctx.task_run.id, task_ctx.task_run.flow_run_id, flow
    if flow_ctx is not None:
        return flow_ctx.flow_run.id, flow_ctx.flow_run.id, flow
    raise InvalidModelError(
        "log_model records the model as an output of the current run: call it inside a "
        "function decorated with @flow or @task.",
        field="model",
    )


def _artifact_path(name: Any) -> str:
    text = str(name or "").strip().strip("/")
    parts = PurePosixPath(text).parts
    if not text or any(p in ("..", ".") for p in parts) or "\\" in text:
        raise InvalidModelError(
            f"{name!r} is not a name for a model's folder: give a relative path such as "
            "'model' or 'models/regressor', without '..'.",
            field="name",
        )
    return "/".join(parts)


def _code_version(flow: Any) -> str | None:
    from cadenza.registry.environment import git_commit

    start = Path.cwd()
    fn = getattr(flow, "fn", None)
    code = getattr(fn, "__code__", None)
    if code is not None and Path(code.co_filename).is_file():
        start = Path(code.co_filename).resolve()
    commit = git_commit(start)
    if commit is None and flow is not None and getattr(flow, "version", None):
        return str(flow.version)
    return commit


def _example_frame(example: Any) -> Any:
    if isinstance(example, dict | list):
        from cadenza.registry.signature import to_frame

        return to_frame(example)
    return example


def _signature(flavor: ModuleType, model: Any, example: Any) -> dict[str, Any]:
    from cadenza.registry.signature import infer_schema

    inputs = infer_schema(example)
    outputs = None
    try:
        outputs = infer_schema(flavor.predict(model, example))
    except Exception as exc:  # the model may not predict on the example: no output schema
        logger.warning("No output schema: predicting on the input example failed (%s)", exc)
    return {"inputs": inputs, "outputs": outputs}


def _save_example(folder: Path, example: Any) -> bool:
    import pandas as pd

    from cadenza.registry.descriptor import INPUT_EXAMPLE

    if isinstance(example, pd.DataFrame | pd.Series):
        (folder / INPUT_EXAMPLE).write_text(example.to_json(orient="split", date_format="iso"))
        return True
    return False


def log_model(
    model: Any,
    name: str = "model",
    *,
    input_example: Any = None,
    signature: dict[str, Any] | None = None,
    registered_model_name: str | None = None,
    pip_requirements: list[str] | None = None,
    flavor: str | None = None,
    metadata: dict[str, Any] | None = None,
    flavor_options: dict[str, Any] | None = None,
) -> ModelInfo:
    """Save ``model`` as an artifact of the current run, and register it if asked.

    The model is saved in its flavor's native format (scikit-learn: cloudpickle;
    XGBoost: its ``.ubj`` format; anything else with ``predict``: cloudpickle) with an
    ``MLmodel`` descriptor: its flavors, its signature (the columns and types of
    ``input_example`` and of the model's prediction on it), its requirements pinned
    to the installed versions, the run, the code version (git commit) and the time.

    Args:
        model: the model; its flavor is inferred from its type unless ``flavor`` is given.
        name: the folder of the run's artifacts the model goes to.
        input_example: a few rows of input (DataFrame, dict of columns, list of rows, array).
        signature: a signature from :func:`cadenza.registry.signature.infer_signature`,
            instead of inferring one from ``input_example``.
        registered_model_name: register the model under this name (created if new).
        pip_requirements: the requirements to record instead of the inferred ones.
        flavor: ``sklearn``, ``xgboost`` or ``python_function``.
        metadata: any JSON-serializable details to keep in the descriptor.
        flavor_options: options of the flavor (XGBoost: ``{"model_format": "json"}``).

    Returns:
        A :class:`ModelInfo` whose ``model_uri`` loads the model back.

    Raises:
        InvalidModelError: called outside a flow or task, a model no flavor accepts
            (the message lists what is accepted), or a bad name.
    """
    import platform
    import tempfile
    import time

    from cadenza import __version__
    from cadenza.registry import artifact_io, flavors
    from cadenza.registry.descriptor import PYFUNC, ModelDescriptor
    from cadenza.registry.entities import LoggedModel
    from cadenza.registry.environment import pinned
    from cadenza.registry.stores import registry_store

    run_id, flow_run_id, flow = _current_run()
    path = _artifact_path(name)
    if registered_model_name is not None:
        from cadenza.registry.validate import model_name

        model_name(registered_model_name)  # a bad name fails before any work
    module = flavors.module(flavor) if flavor else flavors.infer(model)
    if flavor and not module.accepts(model):
        raise InvalidModelError(
            f"The flavor {module.NAME!r} cannot save a {type(model).__qualname__}; "
            f"{flavors.ACCEPTED}.",
            field="flavor",
        )
    example = None if input_example is None else _example_frame(input_example)
    with tempfile.TemporaryDirectory(prefix="cadenza-model-") as tmp:
        folder = Path(tmp) / PurePosixPath(path).name
        folder.mkdir()
        conf = module.save(model, folder, dict(flavor_options or {}))
        if signature is None and example is not None:
            signature = _signature(module, model, example)
        pyfunc_conf = {
            "loader_module": module.__name__,
            "python_version": platform.python_version(),
            "env": "requirements.txt",
        }
        flavor_confs = (
            {PYFUNC: {**conf, **pyfunc_conf}}
            if module.NAME == PYFUNC
            else {PYFUNC: pyfunc_conf, module.NAME: conf}
        )
        requirements = (
            list(pip_requirements) if pip_requirements is not None else pinned(module.PACKAGES)
        )
        descriptor = ModelDescriptor(
            flavors=flavor_confs,
            artifact_path=path,
            run_id=run_id,
            flow_run_id=flow_run_id,
            signature=signature,
            requirements=requirements,
            code_version=_code_version(flow),
            created=time.time(),
            metadata=metadata,
            cadenza_version=__version__,
            has_input_example=example is not None and _save_example(folder, example),
        )
        descriptor.save(folder)
        artifact_io.upload(folder, path)
    store = registry_store()
    store.record_logged_model(
        LoggedModel(
            run_id=run_id,
            artifact_path=path,
            flow_run_id=flow_run_id,
            flavors=list(flavor_confs),
            signature=signature,
            requirements=requirements,
            code_version=descriptor.code_version,
            created=descriptor.created,
        )
    )
    info = ModelInfo(
        model_uri=f"runs:/{run_id}/{path}",
        run_id=run_id,
        flow_run_id=flow_run_id,
        artifact_path=path,
        flavors=flavor_confs,
        signature=signature,
        requirements=requirements,
        code_version=descriptor.code_version,
        model_uuid=descriptor.model_uuid,
        utc_time_created=descriptor.to_dict()["utc_time_created"],
        metadata=metadata,
    )
    if registered_model_name is not None:
        version = register_model(info.model_uri, registered_model_name, _store=store)
        info.registered_model_version = version.version
    return info


def register_model(
    model_uri: str,
    name: str,
    await_registration_for: int = 300,
    *,
    tags: dict[str, str] | None = None,
    description: str | None = None,
    _store: RegistryStore | None = None,
) -> ModelVersion:
    """Register the model at ``model_uri`` as the next version of the model ``name``
    (created when it does not exist), as ``mlflow.register_model`` does.

    ``runs:/RUN_ID/PATH`` URIs keep the link to the run, its flow run, the code
    version and the signature. ``await_registration_for`` is accepted for MLflow's
    sake: versions are ready at once.

    Returns:
        The new :class:`~cadenza.registry.entities.ModelVersion` (``.version`` is 1, 2...).
    """
    from cadenza.exceptions import ModelAlreadyExistsError
    from cadenza.registry.stores import current_user, registry_store

    store = _store or registry_store()
    source, details = _source_details(store, model_uri)
    try:
        store.create_registered_model(name)
    except ModelAlreadyExistsError:
        pass
    version = store.create_model_version(
        name, source, tags=tags, description=description, user=current_user(), **details
    )
    logger.info("Registered version %s of model %r from %s", version.version, name, source)
    return version


def _source_details(store: RegistryStore, model_uri: str) -> tuple[str, dict[str, Any]]:
    """The source to record for ``model_uri``, and what is known of it."""
    from cadenza.registry import uri
    from cadenza.registry.descriptor import ModelDescriptor

    parsed = uri.parse(model_uri)
    if isinstance(parsed, uri.ModelsUri):
        found = resolve_version(store, parsed)
        return found.source, {
            "run_id": found.run_id,
            "flow_run_id": found.flow_run_id,
            "code_version": found.code_version,
            "signature": found.signature,
        }
    if isinstance(parsed, uri.RunsUri):
        for logged in store.list_logged_models(parsed.run_id):
            if logged.run_id == parsed.run_id and logged.artifact_path == parsed.path:
                return model_uri.strip(), {
                    "run_id": logged.run_id,
                    "flow_run_id": logged.flow_run_id,
                    "code_version": logged.code_version,
                    "signature": logged.signature,
                }
        return model_uri.strip(), {"run_id": parsed.run_id}
    descriptor = ModelDescriptor.load(parsed.path, where=model_uri)
    return str(parsed.path.resolve()), {
        "run_id": descriptor.run_id,
        "flow_run_id": descriptor.flow_run_id,
        "code_version": descriptor.code_version,
        "signature": descriptor.signature,
    }


def resolve_version(store: RegistryStore, parsed: uri.ModelsUri) -> ModelVersion:
    """The version a ``models:/`` URI names, read now (aliases and stages move)."""
    from cadenza.exceptions import ModelVersionNotFoundError

    if parsed.version is not None:
        return store.get_model_version(parsed.name, parsed.version)
    if parsed.alias is not None:
        return store.get_model_version_by_alias(parsed.name, parsed.alias)
    model = store.get_registered_model(parsed.name)
    if parsed.latest:
        if model.latest_version is None:
            raise ModelVersionNotFoundError(f"Model {parsed.name!r} has no versions yet.")
        return store.get_model_version(parsed.name, model.latest_version)
    found = store.get_latest_versions(parsed.name, [str(parsed.stage)])
    if not found:
        stages = ", ".join(
            f"{v.current_stage} (version {v.version})" for v in model.latest_versions
        )
        raise ModelVersionNotFoundError(
            f"Model {parsed.name!r} has no version in stage {parsed.stage}; "
            f"its latest versions by stage are: {stages or 'none'}."
        )
    return found[0]


def _download(model_uri: str, dst: Path, store: RegistryStore | None = None) -> Path:
    """The local folder of the model at ``model_uri`` (downloaded into ``dst``)."""
    from cadenza.registry import artifact_io, uri
    from cadenza.registry.stores import registry_store

    parsed = uri.parse(model_uri)
    if isinstance(parsed, uri.ModelsUri):
        version = resolve_version(store or registry_store(), parsed)
        return _download(version.source, dst, store)
    if isinstance(parsed, uri.RunsUri):
        return artifact_io.download(parsed.run_id, parsed.path, dst)
    return parsed.path


def _load(model_uri: str, dst_path: str | Path | None) -> tuple[ModelDescriptor, Path, Any]:
    import tempfile

    from cadenza.registry.descriptor import ModelDescriptor

    tmp = None
    if dst_path is None:
        tmp = tempfile.TemporaryDirectory(prefix="cadenza-load-")
        dst = Path(tmp.name)
    else:
        dst = Path(dst_path)
        dst.mkdir(parents=True, exist_ok=True)
    try:
        folder = _download(model_uri, dst)
        return ModelDescriptor.load(folder, where=model_uri), folder, tmp
    except BaseException:
        if tmp is not None:
            tmp.cleanup()
        raise


def load_model(model_uri: str, dst_path: str | Path | None = None) -> PyFuncModel:
    """Load the model at ``model_uri``: an object with ``.predict(dataframe)``.

    ``model_uri`` is ``models:/NAME/VERSION``, ``models:/NAME@ALIAS``,
    ``models:/NAME/STAGE``, ``models:/NAME/latest``, ``runs:/RUN_ID/PATH`` or a local
    folder. Aliases and stages are looked up at each call, and the files are
    downloaded afresh (into ``dst_path`` when given, else a temporary folder that is
    removed once the model is loaded). The native model is ``.native``.

    Raises:
        InvalidModelError: not a model URI, or nothing saved there.
        ModelNotFoundError, ModelVersionNotFoundError: the registry has no such model,
            version, alias or stage (the message says which exist).
    """
    from cadenza.registry.descriptor import PYFUNC
    from cadenza.registry.pyfunc import PyFuncModel

    descriptor, folder, tmp = _load(model_uri, dst_path)
    try:
        module = _loader(descriptor, model_uri)
        conf = descriptor.flavors.get(module.NAME, descriptor.flavors.get(PYFUNC, {}))
        native = module.load(folder, conf)
    finally:
        if tmp is not None:
            tmp.cleanup()
    return PyFuncModel(descriptor, native, module, model_uri)


def load_native(model_uri: str, flavor: str, dst_path: str | Path | None = None) -> Any:
    """The native model at ``model_uri`` if it was logged in ``flavor``."""
    from cadenza.registry import flavors

    descriptor, folder, tmp = _load(model_uri, dst_path)
    try:
        if flavor not in descriptor.flavors:
            raise InvalidModelError(
                f"The model at {model_uri} was logged in the flavors "
                f"{', '.join(descriptor.flavors)}, not {flavor}: load it with "
                "cadenza.load_model.",
                field="model_uri",
            )
        return flavors.module(flavor).load(folder, descriptor.flavors[flavor])
    finally:
        if tmp is not None:
            tmp.cleanup()


def _loader(descriptor: ModelDescriptor, model_uri: str) -> ModuleType:
    import importlib
    import sys

    from cadenza.registry import flavors

    name = descriptor.loader_module
    if name not in flavors.MODULES.values():
        raise InvalidModelError(
            f"The model at {model_uri} names the loader {name!r}, which is not one of "
            "cadenza's flavors; it was not saved by cadenza.log_model.",
            field="model_uri",
        )
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise InvalidModelError(
            f"The model at {model_uri} needs {exc.name or 'a package'} to load, which is "
            f"not installed here ({sys.executable}). Its requirements: "
            f"{', '.join(descriptor.requirements) or 'none recorded'}.",
            field="model_uri",
        ) from None
