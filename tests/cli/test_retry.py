"""``cadenza runs retry``: a failed run of a script, resumed by a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import os
from cadenza import flow, task

@task
def load(x):
    print("load ran")
    return x + 1

@task
def train(x):
    if os.environ.get("BREAK_TRAIN"):
        raise RuntimeError("training diverged")
    return x * 2

@flow(persist_result=True)
def pipeline(x: int = 1):
    return train(load(x))

if __name__ == "__main__":
    pipeline(5)
"""


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_retry_resumes_a_failed_run_from_its_recorded_entrypoint(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENZA_")}
    env["CADENZA_HOME"] = str(tmp_path / "home")
    script = tmp_path / "train_script.py"
    script.write_text(SCRIPT)
    cli = [sys.executable, "-m", "cadenza.cli.main"]

    failed = _run([sys.executable, str(script)], {**env, "BREAK_TRAIN": "1"}, tmp_path)
    assert failed.returncode == 1 and "training diverged" in failed.stderr
    runs = json.loads(_run([*cli, "runs", "ls", "--json"], env, tmp_path).stdout)
    (run,) = runs
    assert run["state"]["name"] == "Failed"

    resumed = _run([*cli, "runs", "retry", run["id"][:18]], env, tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed and completed" in resumed.stdout
    assert "load ran" not in resumed.stdout  # the load step came from its stored result

    shown = json.loads(_run([*cli, "runs", "show", run["id"], "--json"], env, tmp_path).stdout)
    assert shown["flow_run"]["state"]["name"] == "Completed"
    states = [c["task_run"]["state"]["name"] for c in shown["children"]]
    assert states == ["Completed", "Failed", "Cached", "Completed"]

    again = _run([*cli, "runs", "retry", run["id"]], env, tmp_path)
    assert again.returncode == 1
    assert "only failed, crashed or cancelled runs" in again.stderr
