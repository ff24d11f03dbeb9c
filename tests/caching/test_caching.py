"""Task caching and persisted results."""

from __future__ import annotations

import importlib
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from cadenza import flow, task
from cadenza.cache_policies import FLOW_PARAMETERS, INPUTS, NO_CACHE
from cadenza.engine.caching import get_storage
from cadenza.hashing import UnhashableInputError
from cadenza.results.records import ResultRecord
from cadenza.results.storage import ResultStorage
from cadenza.store import get_store
from cadenza.store.base import RunStore
from cadenza.tasks import task_input_hash


@pytest.fixture
def store() -> RunStore:
    return get_store()


def task_runs(store: RunStore) -> list:
    out = []
    for run in store.list_flow_runs():
        out.extend(store.read_task_run(t.id) for t in store.list_task_runs(run.id))
    return sorted(out, key=lambda t: t.id)


def test_a_hit_does_not_call_the_function_and_points_at_the_producer(store: RunStore) -> None:
    calls: list[int] = []

    @task(cache_policy=INPUTS)
    def expensive(x: int) -> int:
        calls.append(x)
        return x * 2

    @flow
    def f(x: int) -> int:
        return expensive(x)

    assert f(1) == 2
    assert f(1) == 2
    assert f(2) == 4
    assert calls == [1, 2]
    first, second, third = task_runs(store)
    assert first.state.name == "Completed"
    assert second.state.name == "Cached"
    assert second.state.data["cached_from"] == first.id
    assert second.run_count == 0  # never ran
    assert Path(second.state.data["result"]).exists()
    assert third.state.name == "Completed"


def test_expiration_and_refresh() -> None:
    calls: list[int] = []

    @task(cache_policy=INPUTS, cache_expiration=timedelta(seconds=0.3))
    def t(x: int) -> int:
        calls.append(x)
        return x

    @flow
    def f() -> int:
        return t(1)

    f()
    f()
    assert len(calls) == 1
    time.sleep(0.35)
    f()
    assert len(calls) == 2

    refreshing = t.with_options(refresh_cache=True)

    @flow
    def g() -> int:
        return refreshing(1)

    g()
    assert len(calls) == 3
    f()  # the refreshed result is the one found now
    assert len(calls) == 3


def test_task_source_change_invalidates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "pipeline_mod.py"
    source = (
        "from cadenza import flow, task\n"
        "from cadenza.cache_policies import INPUTS, TASK_SOURCE\n"
        "CALLS = []\n"
        "@task(cache_policy=INPUTS + TASK_SOURCE)\n"
        "def step(x):\n"
        "    CALLS.append(x)\n"
        "    return x + {inc}\n"
        "@flow\n"
        "def f(x: int):\n"
        "    return step(x)\n"
    )
    module.write_text(source.format(inc=1))
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("pipeline_mod")
    assert mod.f(1) == 2
    assert mod.f(1) == 2
    assert mod.CALLS == [1]
    module.write_text(source.format(inc=10))
    importlib.invalidate_caches()
    mod = importlib.reload(mod)
    assert mod.f(1) == 11  # the new source does not reuse the old result
    assert mod.CALLS == [1]  # CALLS was re-created by the reload
    sys.modules.pop("pipeline_mod", None)


def test_dataframes_that_differ_in_one_cell_miss() -> None:
    calls: list[int] = []

    @task(cache_policy=INPUTS)
    def featurize(df: pd.DataFrame) -> float:
        calls.append(1)
        return float(df["x"].sum())

    @flow
    def f(df: pd.DataFrame) -> float:
        return featurize(df)

    df = pd.DataFrame({"x": range(1000), "y": ["a"] * 1000})
    f(df)
    f(df.copy())
    changed = df.copy()
    changed.loc[999, "y"] = "b"
    f(changed)
    assert len(calls) == 2


def test_unhashable_input_names_the_argument_and_the_ways_out(store: RunStore) -> None:
    @task(cache_policy=INPUTS)
    def uses_lock(lock: object, n: int) -> int:
        return n

    @flow
    def f() -> int:
        return uses_lock(threading.Lock(), 1)

    with pytest.raises(UnhashableInputError) as info:
        f()
    message = str(info.value)
    assert "'lock'" in message and "uses_lock" in message
    assert "INPUTS - 'lock'" in message and "cache_key_fn" in message and "NO_CACHE" in message

    @task(cache_policy=INPUTS - "lock")
    def excluded(lock: object, n: int) -> int:
        return n

    @flow
    def g() -> int:
        return excluded(threading.Lock(), 1) + excluded(threading.Lock(), 1)

    assert g() == 2


def test_cache_key_fn_and_task_input_hash() -> None:
    calls: list[str] = []

    @task(cache_key_fn=lambda ctx, params: params["name"].lower())
    def greet(name: str) -> str:
        calls.append(name)
        return f"hi {name}"

    @task(cache_key_fn=task_input_hash)
    def double(x: int) -> int:
        calls.append(str(x))
        return 2 * x

    @flow
    def f() -> list[object]:
        return [greet("Ada"), greet("ADA"), double(2), double(2)]

    assert f() == ["hi Ada", "hi Ada", 4, 4]
    assert calls == ["Ada", "2"]
    with pytest.raises(TypeError, match="not both"):
        task(cache_policy=INPUTS, cache_key_fn=task_input_hash)(lambda: 1)


def test_flow_parameters_policy_and_no_cache() -> None:
    calls: list[int] = []

    @task(cache_policy=FLOW_PARAMETERS)
    def load() -> int:
        calls.append(1)
        return len(calls)

    @flow
    def f(month: int) -> int:
        return load()

    assert f(1) == 1
    assert f(1) == 1
    assert f(2) == 2

    @task(cache_policy=NO_CACHE, persist_result=True)
    def never(x: int) -> int:
        calls.append(x)
        return x

    @flow
    def g() -> int:
        return never(5) + never(5)

    g()
    assert calls[-2:] == [5, 5]


def test_json_serializer_is_recorded_with_the_result(store: RunStore) -> None:
    @task(cache_policy=INPUTS, result_serializer="json")
    def stats(n: int) -> dict[str, int]:
        return {"n": n}

    @flow
    def f() -> dict[str, int]:
        return stats(3)

    assert f() == {"n": 3}
    (tr,) = task_runs(store)
    assert tr.state.data["serializer"] == "json"
    data = Path(tr.state.data["result"]).read_bytes()
    record = ResultRecord.from_bytes(data)
    assert record.serializer == "json" and record.payload == b'{"n":3}'
    assert record.task_run_id == tr.id
    with pytest.raises(ValueError, match="serializer"):
        task(result_serializer="yaml")(lambda: 1)


def test_fsspec_memory_storage_and_local_url(tmp_path: Path) -> None:
    calls: list[int] = []

    @task(cache_policy=INPUTS, result_storage="memory://cadenza-test/results")
    def remote(x: int) -> int:
        calls.append(x)
        return x

    @task(cache_policy=INPUTS, result_storage=f"file://{tmp_path}/local")
    def local(x: int) -> int:
        calls.append(x)
        return x

    @flow
    def f() -> int:
        return remote(1) + remote(1) + local(2) + local(2)

    assert f() == 6
    assert calls == [1, 2]
    assert list((tmp_path / "local").iterdir())


def test_flow_level_persist_result_persists_every_task(store: RunStore) -> None:
    @task
    def a() -> int:
        return 1

    @task(persist_result=False)
    def b() -> int:
        return 2

    @flow(persist_result=True)
    def f() -> int:
        return a() + b()

    assert f() == 3
    runs = {t.name: t for t in task_runs(store)}
    assert "result" in runs["a-0"].state.data
    assert runs["b-0"].state.data is None


def test_missing_or_corrupt_result_is_a_miss_with_a_warning(
    store: RunStore, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    @task(cache_policy=INPUTS)
    def t(x: int) -> int:
        calls.append(x)
        return x

    @flow
    def f() -> int:
        return t(1)

    f()
    (tr,) = task_runs(store)
    path = Path(tr.state.data["result"])
    path.unlink()
    f()
    assert len(calls) == 2
    (_, tr2) = task_runs(store)
    Path(tr2.state.data["result"]).write_bytes(b"CZR1garbage")
    f()
    assert len(calls) == 3
    from cadenza.reporting import get_reporter

    get_reporter().flush()
    logged = [e.message for r in store.list_flow_runs() for e in store.read_logs(r.id)]
    assert any("could not be read" in m for m in logged)


def test_concurrent_writers_of_one_key_both_succeed(tmp_path: Path) -> None:
    storage = ResultStorage(tmp_path / "results")
    big = b"x" * 5_000_000
    errors: list[BaseException] = []

    def write(payload: bytes) -> None:
        try:
            for _ in range(5):
                storage.write("same-key", payload)
        except BaseException as exc:  # pragma: no cover - the assertion shows it
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(big[:-1] + bytes([65 + i]),)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    data = storage.read("same-key")
    assert data is not None and len(data) == len(big) and data[:-1] == big[:-1]
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["same-key"]


def test_submitted_and_mapped_tasks_are_cached() -> None:
    calls: list[int] = []

    @task(cache_policy=INPUTS)
    def sq(x: int) -> int:
        calls.append(x)
        return x * x

    @flow
    def f() -> list[int]:
        return sq.map([1, 2, 3]).result()

    assert f() == [1, 4, 9]
    assert f() == [1, 4, 9]
    assert sorted(calls) == [1, 2, 3]


def test_default_storage_is_under_cadenza_home(cadenza_home: Path) -> None:
    assert get_storage(None).url == str(cadenza_home / "results")
