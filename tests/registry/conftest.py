"""Fixtures of the registry tests: a small regression data set and a flow that logs a
model and returns what ``log_model`` answered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cadenza import flow


@pytest.fixture
def data() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(7)
    x = pd.DataFrame(
        {
            "trip_distance": rng.uniform(0.5, 20.0, 200),
            "passenger_count": rng.integers(1, 5, 200),
            "pickup_hour": rng.integers(0, 24, 200),
        }
    )
    y = 3.0 * x.trip_distance + 0.5 * x.pickup_hour + rng.normal(0, 0.5, 200)
    return x, pd.Series(y, name="duration")


@pytest.fixture
def log_in_flow() -> Callable[..., Any]:
    """Call ``cadenza.log_model(model, **kwargs)`` inside a flow; returns its ModelInfo."""
    from cadenza import log_model

    @flow
    def training(model: Any, kwargs: dict[str, Any]) -> Any:
        return log_model(model, **kwargs)

    def run(model: Any, **kwargs: Any) -> Any:
        return training(model, kwargs)

    return run
