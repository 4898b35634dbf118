"""Object storage without Ray, on the loopback S3 server (moto): rayscore.io's copies, globs and
staged outputs, the model cache, and the evaluate job reading from and writing to a bucket."""

import json
import os

import pandas as pd
import pytest

from jobs.evaluate import main as evaluate
from rayscore.io import (
    exists,
    files,
    filesystem,
    glob_files,
    join,
    local_output,
    read_parquet,
    read_table,
    relocated,
    upload_dir,
    write_parquet,
)
from rayscore.model_cache import download_record, local_model_dir


@pytest.fixture
def bucket(s3_server, monkeypatch, tmp_path):
    """A fresh bucket (its URI) on the session's server, this test's model cache."""
    for name, value in s3_server.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RAYSCORE_MODEL_CACHE", str(tmp_path / "cache"))
    name = f"t-{os.urandom(4).hex()}"
    fs, _ = filesystem(f"s3://{name}")
    fs.create_dir(name)
    return f"s3://{name}"


def test_join_keeps_the_scheme():
    assert join("s3://b/out/", "model", "merged") == "s3://b/out/model/merged"
    assert join("/tmp/out", "model") == "/tmp/out/model"


def test_upload_replaces_directories_and_globs_read_a_bucket(bucket, tmp_path):
    local = tmp_path / "run"
    (local / "model").mkdir(parents=True)
    (local / "model" / "old.bin").write_bytes(b"old")
    write_parquet(pd.DataFrame({"x": [1, 2]}), local / "part-0.parquet")
    write_parquet(pd.DataFrame({"x": [3]}), local / "part-1.parquet")
    upload_dir(local, f"{bucket}/out")
    (local / "model" / "old.bin").unlink()
    (local / "model" / "new.bin").write_bytes(b"new")
    upload_dir(local, f"{bucket}/out")
    names = [name for name, _, _ in files(f"{bucket}/out")]
    assert names == ["model/new.bin", "part-0.parquet", "part-1.parquet"]  # no file of the old model left
    assert glob_files(f"{bucket}/out/part-*.parquet") == [f"{bucket}/out/part-0.parquet",
                                                          f"{bucket}/out/part-1.parquet"]
    assert read_table(f"{bucket}/out/part-*.parquet").x.tolist() == [1, 2, 3]
    assert read_parquet(f"{bucket}/out/part-1.parquet").x.tolist() == [3]
    assert exists(f"{bucket}/out/model") and not exists(f"{bucket}/out/nothing")


def test_local_output_uploads_after_an_error_too(bucket):
    with local_output(f"{bucket}/done") as out:
        (out / "summary.json").write_text("{}")
    with pytest.raises(RuntimeError, match="boom"):
        with local_output(f"{bucket}/failed") as out:
            (out / "quarantine").mkdir()
            (out / "quarantine" / "rows.jsonl").write_text("{}\n")
            raise RuntimeError("boom")
    assert [n for n, _, _ in files(f"{bucket}/done")] == ["summary.json"]
    assert [n for n, _, _ in files(f"{bucket}/failed")] == ["quarantine/rows.jsonl"]
    assert not out.exists()  # the staging dir is gone


def test_model_cache_downloads_once_per_version(bucket, tmp_path):
    model = tmp_path / "model"
    (model / "merged").mkdir(parents=True)
    (model / "merged" / "config.json").write_text('{"v": 1}')
    upload_dir(model, f"{bucket}/model")
    first = local_model_dir(f"{bucket}/model")
    record = download_record(first)
    assert json.loads((tmp_path / "cache" / first / "merged" / "config.json").read_text()) == {"v": 1}
    assert record["uri"] == f"{bucket}/model" and record["pid"] == os.getpid() and record["files"] == 1
    assert local_model_dir(f"{bucket}/model/") == first and download_record(first) == record  # not again

    (model / "merged" / "config.json").write_text('{"v": 2, "retrained": true}')
    upload_dir(model, f"{bucket}/model")
    second = local_model_dir(f"{bucket}/model")
    assert second != first and json.loads(open(f"{second}/merged/config.json").read())["v"] == 2
    assert sorted(p.name for p in (tmp_path / "cache").iterdir() if p.is_dir()) == sorted(
        [os.path.basename(first), os.path.basename(second)])  # no partial download left behind
    assert local_model_dir(str(model)) == str(model)  # a local dir is used where it is


def test_model_cache_names_a_missing_model(bucket):
    with pytest.raises(FileNotFoundError, match=f"{bucket}/nothing: no model here"):
        local_model_dir(f"{bucket}/nothing")


def test_evaluate_reads_and_writes_a_bucket(bucket, tmp_path):
    rows = pd.DataFrame({"id": [str(i) for i in range(40)], "gold": [i % 2 for i in range(40)],
                         "score": [(i % 2) if i % 5 else 1 - i % 2 for i in range(40)]})
    write_parquet(rows[["id", "score"]].iloc[:20], f"{bucket}/preds/part-0.parquet")
    write_parquet(rows[["id", "score"]].iloc[20:], f"{bucket}/preds/part-1.parquet")
    write_parquet(rows[["id", "gold"]], f"{bucket}/gold.parquet")
    out = f"{bucket}/eval"
    code = evaluate(["--config", "configs/evaluate/tiny.yaml", f"predictions={bucket}/preds/part-*.parquet",
                     f"gold={bucket}/gold.parquet", f"output_dir={out}", "metrics=[classification]",
                     "prediction_column=score", "swap_column=null", "gold_column=gold", "annotator_columns=[]",
                     "label_map={}", "labels=[0, 1]", "group_by=null"])
    assert code == 0
    fs, path = filesystem(f"{out}/metrics.json")
    with fs.open_input_stream(path) as f:
        report = json.loads(f.read())
    assert report["ok"] and report["inputs"]["rows"] == 40
    assert report["metrics"]["classification"]["accuracy"] == pytest.approx(32 / 40)
    names = {n for n, _, _ in files(out)}
    assert {"metrics.json", "config.yaml", "confusion_matrix.png"} <= names


def test_relocated_names_staged_paths_where_they_are_uploaded(tmp_path):
    report = {"plots": {"a": tmp_path / "eval" / "a.png", "b": str(tmp_path / "x.png")}, "n": 3,
              "other": "/elsewhere/c.png", "list": [tmp_path / "d.png"]}
    moved = relocated(report, tmp_path, "s3://b/out")
    assert moved == {"plots": {"a": "s3://b/out/eval/a.png", "b": "s3://b/out/x.png"}, "n": 3,
                     "other": "/elsewhere/c.png", "list": ["s3://b/out/d.png"]}
