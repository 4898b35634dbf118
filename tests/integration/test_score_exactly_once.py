"""Exactly once under failure, on real Ray: (1) kill -9 the driver of `python -m jobs.score_batch`
mid-run and rerun it, input and output in a bucket of an S3-compatible server on loopback: the
output equals a clean local run's; (2) kill -9 one scoring actor mid-run: Ray restarts it, the
chunk is retried, the job finishes exactly; (3) a changed model or scorer config never reuses old
outputs (refused, or recomputed with overwrite=true); (4) changed input is re-scored, never reused."""

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from commits import listing, markers, wait_for
from rayscore.addresses.records import generate_records
from rayscore.io import filesystem
from rayscore.score.inputs import InputError
from rayscore.score.job import ScoreJobConfig, run
from rayscore.score.scorers import ScorerSpec, build_scorer
from storage_jobs import end_group
from tiny_models import char_tokenizer, save_tiny, tiny_reward_model

ROOT = Path(__file__).resolve().parents[2]


def read_output(out) -> pd.DataFrame:
    """Every scored part of an output directory, local or s3://."""
    fs, files = listing(out)
    parts = [f for f in files if f.rsplit("/", 1)[-1].startswith("part-") and f.endswith(".parquet")]
    return pd.concat([pq.read_table(p, filesystem=fs).to_pandas() for p in parts], ignore_index=True)

ROWS, ROW_GROUP = 900, 30  # 3 files of 10 row groups: 30 chunks of one row group each


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Records in 3 files of 30-row row groups, and two tiny quality models (different weights)."""
    root = tmp_path_factory.mktemp("exactly_once")
    records = generate_records(ROWS, seed=11)
    (root / "in").mkdir()
    for k, part in enumerate(np.array_split(np.arange(ROWS), 3)):
        table = pa.Table.from_pandas(records.iloc[part], preserve_index=False)
        pq.write_table(table, root / "in" / f"part-{k}.parquet", row_group_size=ROW_GROUP)
    tok = char_tokenizer(records["text"])
    save_tiny(tiny_reward_model(tok, seed=0), tok, root / "model_a")
    save_tiny(tiny_reward_model(tok, seed=1), tok, root / "model_b")
    return root


def config(setup, out, **changes) -> ScoreJobConfig:
    cfg = ScoreJobConfig(input=str(setup / "in"), output=str(out),
                         scorer=ScorerSpec(model_dir=str(setup / "model_a"), batch_size=64, max_seq_len=96),
                         rows_per_file=ROW_GROUP, num_actors=1, cpus_per_actor=0.5, progress_every_s=5)
    return ScoreJobConfig(**{**cfg.__dict__, **changes})


def assert_same_rows(out, clean: pd.DataFrame) -> None:
    got = read_output(out)
    assert got.record_id.is_unique, "a record was written twice"
    assert set(got.record_id) == set(clean.record_id), "records lost or invented"
    merged = clean.merge(got, on="record_id", suffixes=("_clean", ""))
    assert np.allclose(merged.p_correct, merged.p_correct_clean, atol=1e-6)
    assert (merged.label == merged.label_clean).all()
    assert not listing(out, "_tmp")[1], "temporary files left"


FEW = {"rows_per_file": 10 * ROW_GROUP}
"""3 chunks: enough for runs that are not about failures (a row's scores do not depend on its chunk)."""


@pytest.fixture(scope="module")
def clean_dir(ray_local, setup, tmp_path_factory):
    out = tmp_path_factory.mktemp("clean") / "out"
    summary = run(config(setup, out, **FEW)).data
    assert summary["ok"] and summary["rows_scored"] == ROWS
    return out


@pytest.fixture(scope="module")
def clean_output(clean_dir):
    return read_output(clean_dir)


def start_job(setup, out, ray_tmp, log: Path, inp=None, env: dict | None = None) -> subprocess.Popen:
    """`python -m jobs.score_batch` in its own process group, with its own local Ray."""
    env = {**os.environ, "RAY_ADDRESS": "local", "RAY_TMPDIR": ray_tmp, "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false", **(env or {})}
    args = [sys.executable, "-m", "jobs.score_batch", "--config", "configs/score_batch/tiny.yaml",
            f"input={inp or setup / 'in'}", f"output={out}", f"scorer.model_dir={setup / 'model_a'}",
            "scorer.batch_size=64", "scorer.max_seq_len=96", f"rows_per_file={ROW_GROUP}",
            "num_actors=1", "cpus_per_actor=0.5", "progress_every_s=5"]
    with open(log, "w") as fh:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)


@pytest.mark.slow
def test_killed_driver_rerun_equals_clean_run_on_s3(setup, clean_output, s3_server, tmp_path, monkeypatch):
    """Input read from a bucket, parts and markers written to one (moves are copies there)."""
    for name, value in s3_server.items():
        monkeypatch.setenv(name, value)  # this process's pyarrow client; the jobs get them too
    fs, bucket = filesystem("s3://exactly-once")
    fs.create_dir(bucket)
    for f in sorted((setup / "in").glob("*.parquet")):
        with fs.open_output_stream(f"{bucket}/in/{f.name}") as dst:
            dst.write(f.read_bytes())
    inp, out = "s3://exactly-once/in", "s3://exactly-once/out"
    ray_tmp = tempfile.mkdtemp(prefix="rs-eo-", dir="/tmp")  # short: Ray's socket paths have a length limit
    try:
        proc = start_job(setup, out, ray_tmp, tmp_path / "killed.log", inp, s3_server)
        try:
            wait_for(lambda: len(markers(out)) >= 3 or proc.poll() is not None, 300, "the first commits")
            assert proc.poll() is None, f"the job ended before it could be killed ({proc.returncode})"
            os.kill(proc.pid, signal.SIGKILL)  # the driver only; its Ray follows (or is ended below)
            proc.wait(timeout=30)
            time.sleep(2)  # actors still running may commit a chunk or two after the driver died
        finally:
            end_group(proc)
        committed = len(markers(out))
        assert 0 < committed < ROWS // ROW_GROUP, "the kill did not land mid-run"

        rerun = start_job(setup, out, ray_tmp, tmp_path / "rerun.log", inp, s3_server)
        try:
            assert rerun.wait(timeout=300) == 0, (tmp_path / "rerun.log").read_text()[-3000:]
        finally:
            end_group(rerun)
        with fs.open_input_stream(f"{bucket}/out/summary.json") as f:
            summary = json.loads(f.read().decode())
        assert summary["ok"] and summary["rows_scored"] == ROWS
        assert summary["rows_this_run"] <= ROWS - committed * ROW_GROUP  # resumed, not redone
        assert_same_rows(out, clean_output)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)


@pytest.mark.slow
def test_killed_actor_is_replaced_and_the_job_finishes_exactly(ray_local, setup, clean_output, tmp_path):
    out = tmp_path / "out"
    result: dict = {}
    # Two actors: one is killed while the other goes on.
    job = threading.Thread(target=lambda: result.update(summary=run(config(setup, out, num_actors=2)).data))
    job.start()
    try:
        first = wait_for(lambda: markers(out), 300, "the first commit")[0]
        os.kill(first["pid"], signal.SIGKILL)  # an actor that is busy with its next chunk
        killed_at = len(markers(out))
    finally:
        job.join(timeout=300)
    assert not job.is_alive() and killed_at < ROWS // ROW_GROUP
    summary = result["summary"]
    assert summary["ok"] and summary["rows_scored"] == ROWS and summary["files"] == ROWS // ROW_GROUP
    pids = {m["pid"] for m in markers(out)}
    later = [m for m in markers(out) if m["pid"] != first["pid"]]
    assert later and len(pids) >= 2
    assert_same_rows(out, clean_output)


@pytest.mark.slow
def test_changed_model_or_config_never_reuses_outputs(ray_local, setup, clean_dir, clean_output, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(clean_dir, out)  # a finished run of model_a
    again = run(config(setup, out, **FEW)).data  # same config: everything is already committed
    assert again["ok"] and again["rows_this_run"] == 0
    for changed in (config(setup, out, **FEW, scorer=ScorerSpec(model_dir=str(setup / "model_b"), batch_size=64,
                                                               max_seq_len=96)),
                    config(setup, out, **FEW, scorer=ScorerSpec(model_dir=str(setup / "model_a"), batch_size=64,
                                                               max_seq_len=96, threshold=0.7))):
        with pytest.raises(InputError, match="holds results of another model or scorer config"):
            run(changed)
    recomputed = run(config(setup, out, **FEW, overwrite=True, scorer=ScorerSpec(
        model_dir=str(setup / "model_b"), batch_size=64, max_seq_len=96))).data
    assert recomputed["ok"] and recomputed["rows_this_run"] == ROWS
    assert recomputed["fingerprint"] != again["fingerprint"]
    parts = glob.glob(f"{out}/part-*.parquet") + glob.glob(f"{out}/_committed/*")
    assert parts and all(recomputed["fingerprint"] in p for p in parts)  # nothing of the old run is left
    got = read_output(out)
    assert got.fingerprint.eq(recomputed["fingerprint"]).all() and len(got) == ROWS
    merged = clean_output.merge(got, on="record_id", suffixes=("_a", "_b"))
    assert not np.allclose(merged.p_correct_a, merged.p_correct_b)  # model_b's scores, not model_a's


@pytest.mark.slow
def test_changed_input_is_rescored_never_reused(ray_local, setup, clean_output, tmp_path):
    """Overwrite one input file with as many other rows in the same layout, change one row's text
    in another, and rerun into the same output: those two chunks are re-scored (counted), the
    third is kept; a file removed from the input takes its chunk's outputs with it."""
    inp, out = tmp_path / "in", tmp_path / "out"
    shutil.copytree(setup / "in", inp)
    cfg = config(setup, out, input=str(inp), **FEW)
    assert run(cfg).data["rows_this_run"] == ROWS
    new = generate_records(ROWS // 3, seed=99)  # other ids and texts, same row count
    pq.write_table(pa.Table.from_pandas(new, preserve_index=False), inp / "part-0.parquet", row_group_size=ROW_GROUP)
    edited = pq.read_table(inp / "part-1.parquet").to_pandas()
    edited.loc[7, "text"] = new.text[0]
    pq.write_table(pa.Table.from_pandas(edited, preserve_index=False), inp / "part-1.parquet", row_group_size=ROW_GROUP)

    summary = run(cfg).data
    assert summary["ok"] and summary["chunks_rescored_changed_input"] == 2
    assert summary["rows_this_run"] == 2 * ROWS // 3 and summary["rows_scored"] == ROWS
    got = read_output(out).set_index("record_id")
    kept = pq.read_table(inp / "part-2.parquet").to_pandas().record_id
    assert got.index.is_unique and set(got.index) == set(new.record_id) | set(edited.record_id) | set(kept)
    scorer = build_scorer(cfg.scorer)
    changed = pd.concat([new, edited.iloc[[7]]])
    expected = scorer.score(changed[["text"]].reset_index(drop=True)).p_correct.to_numpy()
    assert np.allclose(got.loc[changed.record_id, "p_correct"], expected, atol=1e-6)
    assert got.loc[changed.record_id, "text"].tolist() == changed.text.tolist()
    same = clean_output.set_index("record_id").loc[kept]
    assert np.allclose(got.loc[kept, "p_correct"], same.p_correct, atol=1e-6)

    (inp / "part-2.parquet").unlink()
    shrunk = run(cfg).data
    assert shrunk["ok"] and shrunk["rows_this_run"] == 0 and shrunk["rows_scored"] == 2 * ROWS // 3
    assert shrunk["chunk_files_removed"] >= 3  # marker, part, ids (and quarantine when any)
    assert not set(read_output(out).record_id) & set(kept)
