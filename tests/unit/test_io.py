import json
import math

import numpy as np
import pandas as pd

from rayscore.io import is_missing, json_value, write_json


def test_json_value_makes_plain_strict_json():
    data = {"score": np.float32(0.5), "n": np.int64(3), "nan": float("nan"), "inf": np.float64("inf"),
            "na": pd.NA, "rows": np.array([1, 2]), 7: [np.bool_(True), {"x": float("-inf")}]}
    plain = json_value(data)
    assert plain == {"score": 0.5, "n": 3, "nan": None, "inf": None, "na": None, "rows": [1, 2],
                     "7": [True, {"x": None}]}
    assert type(plain["n"]) is int and type(plain["7"][0]) is bool
    json.dumps(plain, allow_nan=False)  # raises on any NaN or infinity left behind


def test_write_json_writes_null_not_nan(tmp_path):
    path = write_json(tmp_path / "m.json", {"mae": float("nan"), "per_group": {"a": np.float64(1.25)}})
    text = path.read_text()
    assert "NaN" not in text and json.loads(text) == {"mae": None, "per_group": {"a": 1.25}}


def test_is_missing():
    assert all(is_missing(v) for v in (None, float("nan"), np.nan, pd.NA, pd.NaT))
    assert not any(is_missing(v) for v in (0, 0.0, "", "x", False, math.inf))
