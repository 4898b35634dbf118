import json
import math

import numpy as np
import pandas as pd

from rayscore.io import absolute, is_missing, is_uri, json_value, write_json


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


def test_absolute_makes_local_paths_absolute_and_passes_uris(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert is_uri("s3://b/in") and is_uri("gs://b/x") and not is_uri("data/in") and not is_uri("/data")
    for uri in ("s3://bucket/in", "gs://b/out", None, ""):
        assert absolute(uri) == uri and absolute(uri, names=True) == uri
    # Every other setting is a local path, existing or not (an output directory often is not yet).
    assert absolute("data/in") == str(tmp_path / "data" / "in")
    assert absolute("out") == str(tmp_path / "out")
    assert absolute("./x/../y") == str(tmp_path / "y")
    assert absolute("/already/absolute") == "/already/absolute"


def test_absolute_with_names_passes_model_names_through(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models" / "judge").mkdir(parents=True)
    assert absolute("minilm", names=True) == "minilm"
    assert absolute("Qwen/Qwen2-0.5B-Instruct", names=True) == "Qwen/Qwen2-0.5B-Instruct"
    assert absolute("models/judge", names=True) == str(tmp_path / "models" / "judge")  # exists here
    assert absolute("./not/yet", names=True) == str(tmp_path / "not" / "yet")           # written as a path
    assert absolute("/models/Qwen2-7B", names=True) == "/models/Qwen2-7B"
