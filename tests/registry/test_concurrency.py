"""Versions are numbered in one transaction: processes registering at once on one
database (a SQLite file, or PostgreSQL with the model's row locked) never get the same
number, and the model is created once."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cadenza.store.sql import SqlStore
from tests.store.backends import BACKENDS, Backend

_REGISTER = """
import json, sys, time
from pathlib import Path
from cadenza.exceptions import ModelAlreadyExistsError
from cadenza.store.sql import SqlStore

url, go, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
store = SqlStore(url)
while not go.exists():
    time.sleep(0.005)
try:
    store.create_registered_model("taxi")
except ModelAlreadyExistsError:
    pass
numbers = [store.create_model_version("taxi", "runs:/r/model").version for _ in range(count)]
print(json.dumps(numbers))
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS, ids=str)
def test_processes_registering_at_once_get_distinct_versions(
    tmp_path: Path, backend: Backend, request: pytest.FixtureRequest
) -> None:
    url = backend.fresh_url(request)
    SqlStore(url).close()  # the schema exists before the race starts
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _REGISTER, url, str(go), "15"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    time.sleep(0.5)  # let them all open the database and wait
    go.touch()
    results = []
    for p in processes:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    numbers = sorted(n for r in results for n in r)
    assert numbers == list(range(1, 61))
    for r in results:
        assert r == sorted(r)  # each process sees its own versions increase
    store = SqlStore(url)
    try:
        assert store.get_registered_model("taxi").latest_version == 60
        assert len(store.search_model_versions(name="taxi", limit=100)) == 60
    finally:
        store.close()
