"""Real flows that fill the store the UI tests look at.

Defined at module level so that their runs record an entrypoint (the server can
resume them). Nothing here runs at import.
"""

from __future__ import annotations

import time
from pathlib import Path

from cadenza import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
    flow,
    get_run_logger,
    task,
)

EVIL = "<script>alert(1)</script>"


@task
def extract(day: str) -> list[int]:
    get_run_logger().info("extracting rows of %s", day)
    return list(range(10))


@task
def transform(row: int) -> int:
    return row * 2


@task
def load(rows: list[int]) -> int:
    get_run_logger().warning("loading %d rows into the warehouse", len(rows))
    create_table_artifact(
        [{"metric": "rows", "value": len(rows)}, {"metric": "sum", "value": sum(rows)}],
        key="load-summary",
        description="What was loaded",
    )
    return len(rows)


@task
def score(rows: int) -> float:
    return rows / 10


@flow
def evaluate(rows: int) -> float:
    get_run_logger().info("evaluating %d rows", rows)
    return score(rows)


@flow(log_prints=True)
def etl(day: str = "2026-01-31") -> float:
    rows = extract(day)
    doubled = transform.map(rows).result()
    n = load(doubled)
    print(f"loaded {n} rows")
    create_markdown_artifact(
        f"# ETL report\n\nLoaded **{n}** rows.\n\n| step | ok |\n|---|---|\n| load | yes |\n",
        key="etl-report",
    )
    create_link_artifact("https://example.com/dashboards/etl", link_text="ETL dashboard")
    return evaluate(n)


_attempts: dict[str, int] = {}


@task(retries=2, retry_delay_seconds=0.05)
def download(url: str) -> str:
    _attempts[url] = _attempts.get(url, 0) + 1
    if _attempts[url] < 3:
        raise ConnectionError(f"connection reset while downloading {url}")
    return "payload"


@flow
def train(url: str = "https://example.com/data.csv") -> int:
    payload = download(url)
    get_run_logger().info("training on %d bytes", len(payload))
    return len(payload)


@task
def parse(line: str) -> int:
    return int(line)


@flow
def nightly_report(line: str = "bad input row 42") -> int:
    get_run_logger().error("about to parse %r", line)
    return parse(line)


@task(persist_result=True)
def prepare(marker: str) -> str:
    return marker


@task
def fit(marker: str) -> str:
    path = Path(marker)
    if not path.exists():
        path.write_text("failed once")
        raise RuntimeError("the GPU ran out of memory")
    return "model"


@flow(persist_result=True)
def flaky_training(marker: str) -> str:
    """Fails the first time it runs with ``marker``, completes when resumed."""
    return fit(prepare(marker))


@task
def echo_html(text: str) -> str:
    get_run_logger().info(text)
    return text


@flow(name=EVIL, flow_run_name=EVIL)
def evil(note: str = EVIL) -> str:
    get_run_logger().info("a log line with %s", EVIL)
    echo_html(note)
    create_markdown_artifact(
        "# Report <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[click](javascript:alert(1))\n\n"
        "| a | b |\n|---|---|\n| <b>bold</b> | <script>x</script> |\n",
        key="evil-report",
    )
    create_table_artifact(
        [{"<th>name</th>": EVIL, "value": "<img src=x onerror=alert(1)>"}], key="evil-table"
    )
    create_link_artifact("javascript:alert(1)", link_text=EVIL)
    return note


@task
def tick(i: int) -> int:
    return i


@flow
def long_running(stop_file: str, interval: float = 0.2, limit: float = 90.0) -> int:
    """Logs a numbered line every ``interval`` seconds until ``stop_file`` exists."""
    logger = get_run_logger()
    deadline = time.time() + limit
    i = 0
    while not Path(stop_file).exists() and time.time() < deadline:
        i += 1
        logger.info("heartbeat %d", i)
        tick(i)
        time.sleep(interval)
    return i


def seed_all(root: Path) -> dict[str, str]:
    """Run every flow once; returns the flow run id of each, by flow function."""
    from cadenza.reporting import get_reporter
    from cadenza.store import get_store
    from cadenza.store.base import FlowRunFilter

    ids: dict[str, str] = {}
    for f, args in (
        (etl, ()),
        (train, ()),
        (nightly_report, ()),
        (flaky_training, (str(root / "flaky-marker"),)),
        (evil, ()),
    ):
        f(*args, return_state=True)
        get_reporter().flush()
        (latest,) = get_store().list_flow_runs(FlowRunFilter(flow_name=f.name), limit=1)
        ids[f.fn.__name__] = latest.id
    return ids


if __name__ == "__main__":
    # Run as a script, so that the runs record this file as their entrypoint:
    #   pipeline.py seed ROOT        run every flow once, write ROOT/ids.json
    #   pipeline.py long STOP_FILE   run long_running until STOP_FILE exists
    import json
    import sys

    command, target = sys.argv[1], Path(sys.argv[2])
    if command == "seed":
        (target / "ids.json").write_text(json.dumps(seed_all(target)))
    elif command == "long":
        long_running(str(target))
    else:
        raise SystemExit(f"unknown command {command!r}")
