"""A cProfile of one timed flow: where a framework's time per task goes."""

from __future__ import annotations

import io
import pstats
import subprocess
from pathlib import Path

from harness.environments import WORKLOADS_DIR, Framework

TOP = 15


def profile_workload(workload: str, framework: Framework, n: int, home: Path, out_dir: Path) -> str:
    """Run ``WORKLOAD.py FRAMEWORK N`` with its timed flow under cProfile (main thread only).

    Returns the top functions by own time; the statistics stay in ``out_dir``.
    """
    home.mkdir(parents=True, exist_ok=True)
    stem = f"profile-{workload}-{framework.name}-{n}"
    stats_path = out_dir / f"{stem}.pstats"
    env = framework.environment(home)
    env["BENCH_PROFILE_PATH"] = str(stats_path)
    subprocess.run(
        [str(framework.python), str(WORKLOADS_DIR / f"{workload}.py"), framework.name, str(n)],
        cwd=home,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    text = io.StringIO()
    pstats.Stats(str(stats_path), stream=text).strip_dirs().sort_stats("tottime").print_stats(TOP)
    lines = text.getvalue().strip().splitlines()
    report = "\n".join(line for line in lines if not line.endswith(".pstats")).strip()
    (out_dir / f"{stem}.txt").write_text(report + "\n")
    return report
