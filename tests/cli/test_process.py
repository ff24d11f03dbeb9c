"""The ``cadenza`` command as a real process, on runs recorded by a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
from cadenza import flow, task, get_run_logger

@task(retries=1, retry_delay_seconds=0)
def divide(x):
    get_run_logger().info("dividing %s", x)
    return 1 / x

@flow
def ratios(n: int = 2):
    return [divide(i) for i in range(n)]

ratios(3)
"""


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_cli_process_reads_runs_of_another_process(tmp_path: Path) -> None:
    home = tmp_path / "proc-home"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CADENZA_") and k not in ("COLUMNS", "NO_COLOR")
    }
    env["CADENZA_HOME"] = str(home)
    script = tmp_path / "ratios.py"
    script.write_text(SCRIPT)
    flow_proc = _run([sys.executable, str(script)], env)
    assert flow_proc.returncode == 1
    assert "ZeroDivisionError" in flow_proc.stderr

    cli = [sys.executable, "-m", "cadenza.cli.main"]
    listing = _run([*cli, "runs", "ls", "--json"], env)
    assert listing.returncode == 0, listing.stderr
    (run,) = json.loads(listing.stdout)
    assert (run["flow_name"], run["state"]["type"]) == ("ratios", "FAILED")

    show = _run([*cli, "runs", "show", run["id"]], env)
    assert show.returncode == 0, show.stderr
    assert "\x1b[" not in show.stdout
    divide = next(line for line in show.stdout.splitlines() if "divide-0" in line)
    assert "1 retry" in divide
    assert "ZeroDivisionError: division by zero" in divide

    missing = _run([*cli, "runs", "logs", "not-a-run"], env)
    assert missing.returncode == 1
    assert missing.stderr == (
        "Error: No flow run or task run has an id starting with 'not-a-run'. "
        "List runs with `cadenza runs ls`.\n"
    )
    assert missing.stdout == ""

    script_bin = Path(sys.executable).with_name("cadenza")
    if script_bin.exists():
        version = _run([str(script_bin), "version"], env)
        assert version.returncode == 0, version.stderr
        assert f"Database:   {home / 'cadenza.db'}" in version.stdout
