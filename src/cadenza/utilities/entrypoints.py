"""Loading a flow from where it lives: ``module:function`` or ``path/file.py:function``."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from cadenza.exceptions import CadenzaError


class EntrypointError(CadenzaError):
    """The flow could not be loaded from its entrypoint."""


def load_object(entrypoint: str) -> Any:
    """The object named by ``entrypoint``.

    ``path/to/file.py:name`` loads the file as a module (its
    ``if __name__ == "__main__":`` block does not run); ``package.module:name``
    imports the module. ``name`` may be dotted (``Class.attribute``).

    Raises:
        EntrypointError: the file or module cannot be loaded, or has no such name.
    """
    target, sep, qualname = entrypoint.rpartition(":")
    if not sep or not target or not qualname:
        raise EntrypointError(
            f"Entrypoint {entrypoint!r} is not of the form 'path/to/file.py:function' "
            "or 'module:function'."
        )
    if target.endswith(".py") or "/" in target or "\\" in target:
        module = _load_file(Path(target), entrypoint)
    else:
        try:
            module = importlib.import_module(target)
        except Exception as exc:
            raise EntrypointError(
                f"Could not import module {target!r} of entrypoint {entrypoint!r}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
    obj: Any = module
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise EntrypointError(
                f"{target} has no {qualname!r} (entrypoint {entrypoint!r})."
            ) from None
    return obj


def load_flow(entrypoint: str) -> Any:
    """The :class:`~cadenza.flows.Flow` named by ``entrypoint``."""
    from cadenza.flows import Flow

    obj = load_object(entrypoint)
    if not isinstance(obj, Flow):
        raise EntrypointError(
            f"{entrypoint!r} is a {type(obj).__name__}, not a flow: decorate it with @flow."
        )
    return obj


def _load_file(path: Path, entrypoint: str) -> Any:
    path = path.expanduser()
    if not path.is_file():
        raise EntrypointError(f"The file {path} of entrypoint {entrypoint!r} does not exist.")
    name = f"cadenza_entry_{abs(hash(str(path.resolve())))}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise EntrypointError(f"Cannot load {path} as a Python module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # so that the file's own imports of its neighbours work
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise EntrypointError(f"Loading {path} failed: {type(exc).__name__}: {exc}") from exc
    return module
