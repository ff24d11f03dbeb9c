"""The benchmark harness is a set of scripts run from bench/: its modules import each
other as ``harness.…``, so bench/ goes on the import path here."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))
