"""The JSON form of the tracking events, as clients send them to a server."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from cadenza.events import DatasetLogged, ExperimentSet, MetricLogged, ParamsLogged, TagsSet
from cadenza.events_json import InvalidEvents, decode_events, encode_events
from cadenza.reporting.http import _encode


def test_every_tracking_event_goes_there_and_back() -> None:
    events = [
        MetricLogged("r1", "train/loss", 0.25, 1_750_000_000.5, 3),
        MetricLogged("r1", "nan", math.nan, 1.0, 0),
        MetricLogged("r1", "inf", math.inf, 1.0, 0),
        MetricLogged("r1", "-inf", -math.inf, 1.0, 0),
        ParamsLogged("r1", {"max_depth": "10", "model": "xgb"}),
        TagsSet("r2", {"team": "data"}, 2.0),
        ExperimentSet("r2", "taxi"),
        DatasetLogged(
            "r1",
            "taxi",
            "ab" * 16,
            "s3://b/k",
            "training",
            {"fare (usd)": "float64"},
            10,
            {"type": "x"},
            3.0,
        ),
    ]
    # Through the text the HTTP reporter sends, which must be strict JSON.
    wire = json.loads("[" + ",".join(_encode(e) for e in events) + "]")
    back = decode_events(wire)
    assert back[4:] == events[4:]
    assert back[0] == events[0]
    assert math.isnan(back[1].value)  # type: ignore[union-attr]
    assert [b.value for b in back[2:4]] == [math.inf, -math.inf]  # type: ignore[union-attr]
    assert decode_events(encode_events(events))[4:] == events[4:]


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        (
            {"kind": "metric", "run_id": "r", "key": "k", "value": "x", "timestamp": 1},
            "'value' must be a number",
        ),
        (
            {"kind": "metric", "run_id": "r", "key": "k", "value": 1, "timestamp": 1, "step": 1.5},
            "'step' must be an integer",
        ),
        (
            {"kind": "metric", "run_id": "r", "key": "bad!", "value": 1, "timestamp": 1},
            "metric key 'bad!'",
        ),
        (
            {"kind": "metric", "run_id": 3, "key": "k", "value": 1, "timestamp": 1},
            "'run_id' must be a string",
        ),
        (
            {"kind": "params", "run_id": "r", "params": {"a": 1}},
            "'params' must be an object of strings",
        ),
        ({"kind": "tags", "run_id": "r", "tags": {"a": "b"}}, "'timestamp' must be a number"),
        ({"kind": "experiment", "run_id": "r"}, "'name' must be a string"),
        (
            {"kind": "dataset", "run_id": "r", "name": "n", "digest": "d", "extra": 1},
            "unexpected keyword",
        ),
        (
            {"kind": "dataset", "run_id": "r", "name": "n", "digest": "d", "num_rows": "3"},
            "'num_rows' must be an integer",
        ),
    ],
)
def test_malformed_tracking_events_are_refused_by_index(
    event: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InvalidEvents, match=r"^event 1: ") as info:
        decode_events([{"kind": "experiment", "run_id": "r", "name": "ok"}, event])
    assert problem in str(info.value)
