"""The time a server takes to answer the runs list and the run page: percentiles.

    BENCH_CASES=cases.json BENCH_WARMUP=W python queries.py FRAMEWORK N

cases.json (written by the harness) lists the requests: for cadenza and Prefect each
has a method, a path, and query parameters or a JSON body, sent to the server at
BENCH_SERVER_URL; for plain, the SQL statements that answer the same question,
run with sqlite3 on the SQLite file BENCH_DATABASE (opened read-only), no HTTP.
Every case is requested W times, then N times more, timed; the cases take turns, so
that a busy moment of the machine touches them all alike. Two times are kept per
request: the client's (from sending to the last byte of the answer) and the server's
own, from its ``Server-Timing`` header (plain: the queries' time).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from common import Measurement, load_timing, percentile

measurement = Measurement()
cases: list[dict[str, Any]] = json.loads(Path(os.environ["BENCH_CASES"]).read_text())
warmup = int(os.environ.get("BENCH_WARMUP", "10"))
client_ms: dict[str, list[float]] = {case["key"]: [] for case in cases}
server_ms: dict[str, list[float]] = {case["key"]: [] for case in cases}
answers: dict[str, dict[str, Any]] = {}


def run_sql(cases: list[dict[str, Any]]) -> None:
    db = sqlite3.connect(f"file:{os.environ['BENCH_DATABASE']}?mode=ro", uri=True)
    for i in range(warmup + measurement.n):
        for case in cases:
            started = time.perf_counter()
            rows = 0
            for statement, params in case["sql"]:
                rows += len(db.execute(statement, params).fetchall())
            ms = (time.perf_counter() - started) * 1000
            if i >= warmup:
                client_ms[case["key"]].append(ms)
                server_ms[case["key"]].append(ms)
            answers[case["key"]] = {"rows": rows}
    db.close()


def items_in(body: Any) -> int | None:
    if isinstance(body, list):
        return len(body)
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return len(body["items"])
    return None


def run_http(cases: list[dict[str, Any]]) -> None:
    import httpx

    timing = load_timing()
    with httpx.Client(base_url=os.environ["BENCH_SERVER_URL"], timeout=120) as client:
        for i in range(warmup + measurement.n):
            for case in cases:
                started = time.perf_counter()
                response = client.request(
                    case["method"], case["path"], params=case.get("params"), json=case.get("json")
                )
                ms = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise SystemExit(
                        f"{case['method']} {case['path']} answered {response.status_code}: "
                        f"{response.text[:300]}"
                    )
                server = timing.parse_duration_ms(response.headers.get("server-timing", ""))
                if server is None:
                    raise SystemExit(f"{case['path']} answered without a Server-Timing header")
                if i >= warmup:
                    client_ms[case["key"]].append(ms)
                    server_ms[case["key"]].append(server)
                if i == 0:
                    is_json = response.headers.get("content-type", "").startswith(
                        "application/json"
                    )
                    answers[case["key"]] = {
                        "bytes": len(response.content),
                        "items": items_in(response.json()) if is_json else None,
                    }


if measurement.framework == "plain":
    run_sql(cases)
else:
    run_http(cases)
measurement.figures["cases"] = {
    key: {
        "requests": len(client_ms[key]),
        **{
            f"{which}_p{int(p * 100)}_ms": percentile(times[key], p)
            for which, times in (("server", server_ms), ("client", client_ms))
            for p in (0.5, 0.99)
        },
        "server_max_ms": max(server_ms[key]),
        **answers.get(key, {}),
    }
    for key in client_ms
}
