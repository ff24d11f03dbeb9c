"""Time the registry's common calls on the embedded store (not a test).

``python -m tests.registry.time_registry`` from a checkout of cadenza: in a fresh
CADENZA_HOME, ``log_model`` of an XGBoost regressor inside a flow (without and with an
input example, whose signature costs a prediction), then
``register_model``, ``set_registered_model_alias``, ``load_model("models:/...@champion")``
and ``predict`` on 1,000 rows; prints the median of each over several rounds.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from functools import partial
from typing import Any


def main(rounds: int = 7) -> None:
    home = tempfile.mkdtemp(prefix="cadenza-time-registry-")
    os.environ["CADENZA_HOME"] = home
    import numpy as np
    import pandas as pd
    import xgboost as xgb

    import cadenza
    from cadenza import flow
    from cadenza.registry.client import RegistryClient

    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.uniform(0, 10, (1000, 8)), columns=[f"f{i}" for i in range(8)])
    y = x.sum(axis=1)
    model = xgb.XGBRegressor(n_estimators=50, max_depth=4).fit(x, y)
    times: dict[str, list[float]] = {}

    def timed(label: str, fn: Any) -> Any:
        start = time.perf_counter()
        out = fn()
        times.setdefault(label, []).append(time.perf_counter() - start)
        return out

    @flow
    def training() -> Any:
        example = partial(cadenza.log_model, model, name="with-example", input_example=x.head())
        timed("log_model + example", example)
        return timed("log_model (xgboost)", partial(cadenza.log_model, model, name="model"))

    client = RegistryClient()
    for _ in range(rounds):
        uri = training().model_uri
        number = timed("register_model", partial(cadenza.register_model, uri, "taxi")).version
        timed("set alias", partial(client.set_registered_model_alias, "taxi", "champion", number))
        loaded = timed("load_model @champion", partial(cadenza.load_model, "models:/taxi@champion"))
        timed("predict 1,000 rows", partial(loaded.predict, x))
    for label, values in times.items():
        print(f"{label:<24} {statistics.median(values) * 1000:8.1f} ms  (median of {len(values)})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
