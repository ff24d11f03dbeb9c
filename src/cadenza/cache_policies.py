"""Cache policies: what a task's cache key is made of.

Policies compose with ``+`` (the key depends on all of them) and inputs can be
left out with ``-`` (``INPUTS - "model"``)::

    from cadenza.cache_policies import INPUTS, TASK_SOURCE

    @task(cache_policy=INPUTS + TASK_SOURCE, cache_expiration=timedelta(days=7))
    def build_features(df): ...

A task whose policy gives a key looks the key up in its result storage before it
runs: a stored, unexpired result is returned without calling the function and
the run is recorded as ``Cached``, pointing at the run that produced it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cadenza.hashing import UnhashableInputError, hash_objects, new_hasher, update

if TYPE_CHECKING:
    from cadenza.context import TaskRunContext


@dataclass(frozen=True, slots=True)
class CacheContext:
    """What a policy can base a key on."""

    task_key: str
    task_fn: Callable[..., Any]
    flow_run_id: str | None
    flow_parameters: dict[str, Any] | None
    run_context: TaskRunContext | None = None


class CachePolicy:
    """Computes a cache key, or None for "do not cache this call"."""

    def compute_key(self, ctx: CacheContext, inputs: dict[str, Any]) -> str | None:
        raise NotImplementedError

    def __add__(self, other: CachePolicy) -> CachePolicy:
        if not isinstance(other, CachePolicy):
            return NotImplemented
        parts: list[CachePolicy] = []
        for p in (self, other):
            if isinstance(p, CompoundCachePolicy):
                parts.extend(p.policies)
            elif not isinstance(p, NoCache):
                parts.append(p)
        if not parts:
            return NO_CACHE
        if len(parts) == 1:
            return parts[0]
        return CompoundCachePolicy(tuple(parts))

    def __sub__(self, name: str) -> CachePolicy:
        if not isinstance(name, str):
            return NotImplemented
        return self._without(name)

    def _without(self, name: str) -> CachePolicy:
        return self


@dataclass(frozen=True)
class NoCache(CachePolicy):
    """Never cache."""

    def compute_key(self, ctx: CacheContext, inputs: dict[str, Any]) -> str | None:
        return None

    def __repr__(self) -> str:
        return "NO_CACHE"


@dataclass(frozen=True)
class Inputs(CachePolicy):
    """The values of the task's arguments, hashed by content.

    Args:
        exclude: argument names left out of the key (a logger, a client, a flag).
    """

    exclude: tuple[str, ...] = ()

    def compute_key(self, ctx: CacheContext, inputs: dict[str, Any]) -> str | None:
        h = new_hasher()
        for name in sorted(inputs):
            if name in self.exclude:
                continue
            value = inputs[name]
            h.update(name.encode())
            try:
                update(h, value)
            except UnhashableInputError as exc:
                raise UnhashableInputError(
                    f"Cannot compute the cache key of task {ctx.task_key.rsplit('.', 1)[-1]!r}: "
                    f"argument {name!r} ({type(value).__qualname__}) cannot be hashed ({exc}). "
                    f"Leave it out of the key with cache_policy=INPUTS - {name!r}, give a "
                    "cache_key_fn of your own, or turn caching off with cache_policy=NO_CACHE."
                ) from exc
        return str(h.hexdigest())

    def _without(self, name: str) -> CachePolicy:
        return Inputs(exclude=(*self.exclude, name))

    def __repr__(self) -> str:
        return f"INPUTS - {list(self.exclude)}" if self.exclude else "INPUTS"


_source_hashes: dict[Any, str] = {}


def source_hash(fn: Callable[..., Any]) -> str:
    """A hash of a function's source code (of its bytecode when the source is gone)."""
    code = getattr(fn, "__code__", None)
    cached = _source_hashes.get(code or fn)
    if cached is not None:
        return cached
    try:
        text: Any = inspect.getsource(fn)
    except (OSError, TypeError):
        text = (code.co_code, repr(code.co_consts)) if code is not None else repr(fn)
    digest = hash_objects(text)
    _source_hashes[code or fn] = digest
    return digest


@dataclass(frozen=True)
class TaskSource(CachePolicy):
    """The task function's source code: editing the task invalidates its cache."""

    def compute_key(self, ctx: CacheContext, inputs: dict[str, Any]) -> str | None:
        return source_hash(ctx.task_fn)

    def __repr__(self) -> str:
        return "TASK_SOURCE"


@dataclass(frozen=True)
class FlowParameters(CachePolicy):
    """The parameters of the flow run the task runs in."""

    def compute_key(self, ctx: CacheContext, inputs: dict[str, Any]) -> str | None:
        return hash_objects(ctx.flow_parameters or {})

    def __repr__(self) -> str:
        return "FLOW_PARAMETERS"


@dataclass(frozen=True)
class RunId(CachePolicy):
    """The flow run: results are reused within one flow run (and when it is resumed)."""

    def compute_key(self, ctx: CacheContext, inputs: dict[str, Any]) -> str | None:
        return ctx.flow_run_id

    def __repr__(self) -> str:
        return "RUN_ID"


@dataclass(frozen=True)
class CacheKeyFnPolicy(CachePolicy):
    """A function ``fn(context, parameters) -> str | None`` (Prefect's ``cache_key_fn``)."""

    fn: Callable[[Any, dict[str, Any]], str | None]

    def compute_key(self, ctx: CacheContext, inputs: dict[str, Any]) -> str | None:
        key = self.fn(ctx.run_context, inputs)
        return None if key is None else str(key)


@dataclass(frozen=True)
class CompoundCachePolicy(CachePolicy):
    """Several policies: the key depends on all; None if any of them says None."""

    policies: tuple[CachePolicy, ...] = field(default_factory=tuple)

    def compute_key(self, ctx: CacheContext, inputs: dict[str, Any]) -> str | None:
        keys = []
        for policy in self.policies:
            key = policy.compute_key(ctx, inputs)
            if key is None:
                return None
            keys.append(key)
        return hash_objects(keys)

    def _without(self, name: str) -> CachePolicy:
        return CompoundCachePolicy(tuple(p._without(name) for p in self.policies))

    def __repr__(self) -> str:
        return " + ".join(repr(p) for p in self.policies)


NO_CACHE: CachePolicy = NoCache()
NONE = NO_CACHE
INPUTS: CachePolicy = Inputs()
TASK_SOURCE: CachePolicy = TaskSource()
FLOW_PARAMETERS: CachePolicy = FlowParameters()
RUN_ID: CachePolicy = RunId()
DEFAULT: CachePolicy = INPUTS + TASK_SOURCE + RUN_ID
"""The policy of tasks that persist their results without naming a policy: a
result is reused within its flow run, which is what resuming a failed run needs."""


def resolve_policy(
    cache_policy: CachePolicy | None,
    cache_key_fn: Callable[[Any, dict[str, Any]], str | None] | None,
) -> CachePolicy | None:
    """The policy a task uses: its ``cache_key_fn``, its ``cache_policy``, or None."""
    if cache_key_fn is not None:
        if not callable(cache_key_fn):
            raise TypeError("cache_key_fn must be a callable fn(context, parameters) -> str.")
        if cache_policy is not None and not isinstance(cache_policy, NoCache):
            raise TypeError("Give either cache_policy or cache_key_fn, not both.")
        return CacheKeyFnPolicy(cache_key_fn)
    if cache_policy is None:
        return None
    if not isinstance(cache_policy, CachePolicy):
        raise TypeError(
            f"cache_policy must be a cache policy such as INPUTS or INPUTS + TASK_SOURCE, "
            f"got {cache_policy!r}."
        )
    return cache_policy


__all__ = [
    "DEFAULT",
    "FLOW_PARAMETERS",
    "INPUTS",
    "NONE",
    "NO_CACHE",
    "RUN_ID",
    "TASK_SOURCE",
    "CacheContext",
    "CacheKeyFnPolicy",
    "CachePolicy",
    "CompoundCachePolicy",
    "FlowParameters",
    "Inputs",
    "NoCache",
    "RunId",
    "TaskSource",
]
