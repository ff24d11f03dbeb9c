"""Finding and resolving futures in a run's arguments."""

from __future__ import annotations

from typing import Any

from cadenza.futures import TaskRunFuture, allow_failure, unmapped

_SPECIAL = (TaskRunFuture, allow_failure, unmapped, list, tuple, set, frozenset, dict)
_CONTAINERS = (list, tuple, set, frozenset, dict)


def find_futures(
    value: Any, found: list[tuple[TaskRunFuture[Any], bool]], allowed: bool = False
) -> None:
    """Append every future inside ``value`` (and builtin containers in it) to ``found``,
    as ``(future, failure_allowed)``."""
    cls = type(value)
    if cls is TaskRunFuture:
        found.append((value, allowed))
    elif cls is allow_failure:
        find_futures(value.value, found, True)
    elif cls is unmapped:
        find_futures(value.value, found, allowed)
    elif cls is dict:
        for v in value.values():
            if isinstance(v, _SPECIAL):
                find_futures(v, found, allowed)
    elif cls in _CONTAINERS:
        for v in value:
            if isinstance(v, _SPECIAL):
                find_futures(v, found, allowed)


def resolve(value: Any) -> Any:
    """``value`` with futures replaced by their results (the exception for
    ``allow_failure``) and ``unmapped``/``allow_failure`` wrappers removed."""
    cls = type(value)
    if cls is TaskRunFuture:
        return value.final_state().result()
    if cls is allow_failure:
        inner = value.value
        if type(inner) is TaskRunFuture:
            return inner.final_state().result(raise_on_failure=False)
        return resolve(inner)
    if cls is unmapped:
        return resolve(value.value)
    if cls is dict:
        return {k: resolve(v) for k, v in value.items()}
    if cls in _CONTAINERS:
        return cls(resolve(v) for v in value)
    return value


def has_special(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether any argument may hold a future (cheap first check on the hot path)."""
    for a in args:
        if isinstance(a, _SPECIAL):
            return True
    return any(isinstance(a, _SPECIAL) for a in kwargs.values()) if kwargs else False
