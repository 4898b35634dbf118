"""A finished training run, logged to the trackers `train.report_to` names: TensorBoard, MLflow.

    logged = report_run(["tensorboard", "mlflow"], out, "train_reward")   # after write_curves
    logged   # {"tensorboard": "<out>/tensorboard", "mlflow": {"tracking_uri": ..., "run_id": ...}}

What is logged is what the run wrote: every step of out/log_history.json (the HF trainer's log:
train loss, learning rate, batch accuracy, eval metrics when it evaluated) as scalars by step,
the final numbers of out/metrics.json, its PNGs (training curves, and any other plot) and
metrics.json itself. The driver logs it once the run is done, so a run is tracked the same on a
laptop and on a cluster whatever worker held rank 0; the console shows progress while it trains.

TensorBoard: event files under out/tensorboard (`tensorboard --logdir out`). MLflow: a run in the
experiment named after the job, at $MLFLOW_TRACKING_URI (a server: `mlflow server`) or, when it is
unset, in a local file store at out/mlruns (`mlflow ui --backend-store-uri out/mlruns`).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from rayscore.io import write_json
from rayscore.train.curves import LOG_HISTORY_FILE

logger = logging.getLogger(__name__)

TRACKERS = ("tensorboard", "mlflow")
SKIPPED_KEYS = frozenset({"step", "epoch", "total_flos"})


def numbers(entry: dict, prefix: str = "") -> dict[str, float]:
    """The numeric values of a (nested) mapping, keys joined by '/'; booleans and NaN left out."""
    out = {}
    for key, value in entry.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= numbers(value, f"{name}/")
        elif (isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
              and key not in SKIPPED_KEYS):
            out[name] = float(value)
    return out


def history(out: Path) -> list[dict]:
    path = out / LOG_HISTORY_FILE
    return json.loads(path.read_text(encoding="utf-8"))["log_history"] if path.exists() else []


def track(report_to: list[str], out: Path, job: str, metrics: dict) -> dict:
    """report_run, then what was logged where added to metrics.json (`tracked`); the metrics."""
    logged = report_run(report_to, out, job)
    if logged:
        metrics = {**metrics, "tracked": logged}
        write_json(Path(out) / "metrics.json", metrics)
    return metrics


def report_run(report_to: list[str], out: Path, job: str) -> dict:
    """Log the finished run in `out` to each tracker; what was written where."""
    out = Path(out)
    if not report_to:
        return {}
    log = history(out)
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8")) if (out / "metrics.json").exists() else {}
    final = numbers(metrics)
    last_step = max((int(e["step"]) for e in log if "step" in e), default=0)
    files = sorted(out.glob("*.png")) + [p for p in (out / "metrics.json", out / "config.yaml") if p.exists()]
    logged = {}
    if "tensorboard" in report_to:
        logged["tensorboard"] = to_tensorboard(out / "tensorboard", log, final, last_step, files)
    if "mlflow" in report_to:
        logged["mlflow"] = to_mlflow(out, job, log, final, last_step, files)
    logger.info("tracked: %s", logged)
    return logged


def to_tensorboard(logdir: Path, log: list[dict], final: dict, last_step: int, files: list[Path]) -> str:
    import numpy as np
    from matplotlib.image import imread
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=str(logdir))
    try:
        for entry in log:
            for key, value in numbers(entry).items():
                writer.add_scalar(_tag(key), value, int(entry.get("step", 0)))
        for key, value in final.items():
            writer.add_scalar(f"final/{key}", value, last_step)
        for png in (f for f in files if f.suffix == ".png"):
            image = imread(png)[..., :3]
            writer.add_image(png.stem, np.asarray(image, dtype=np.float32), last_step, dataformats="HWC")
        writer.add_text("metrics.json", "```\n" + json.dumps(final, indent=1) + "\n```", last_step)
    finally:
        writer.close()
    return str(logdir)


def to_mlflow(out: Path, job: str, log: list[dict], final: dict, last_step: int, files: list[Path]) -> dict:
    import mlflow

    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        # MLflow 3 keeps the file store working but asks to opt in; a server or a database is
        # one environment variable away (MLFLOW_TRACKING_URI).
        uri = (out / "mlruns").resolve().as_uri()
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(job)
    with mlflow.start_run(run_name=out.name) as run:
        for entry in log:
            step = int(entry.get("step", 0))
            mlflow.log_metrics({_key(k): v for k, v in numbers(entry).items()}, step=step)
        mlflow.log_metrics({_key(f"final/{k}"): v for k, v in final.items()}, step=last_step)
        for path in files:
            mlflow.log_artifact(str(path))
    return {"tracking_uri": uri, "experiment": job, "run_id": run.info.run_id}


def _tag(key: str) -> str:
    """TensorBoard's groups: eval_accuracy -> eval/accuracy, loss -> train/loss."""
    return key.replace("eval_", "eval/", 1) if key.startswith("eval_") else f"train/{key}"


def _key(key: str) -> str:
    """MLflow keys allow letters, digits and _-./ and spaces only."""
    return "".join(ch if ch.isalnum() or ch in "_-./ " else "_" for ch in key)
