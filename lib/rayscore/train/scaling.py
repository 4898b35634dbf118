"""Ray Train plumbing shared by every training job: resources, storage, failures, checkpoints.

    cfg = absolute_paths(cfg)                    # on the driver: workers run elsewhere
    with local_output(cfg.output_dir) as out:    # out: output_dir, or a staging dir uploaded to its URI
        trainer = torch_trainer(train_loop_per_worker, cfg, cfg.scaling, name="train_reward")
        result = trainer.fit()
        model_dir = export_final_checkpoint(result, out)
        return TrainResult(model_location(cfg.output_dir), metrics)

    # in the worker: resume where the last attempt left off, and record that it did
    resume = restore_checkpoint(workdir)
    attempt = attempt_callback()                 # add to the HF trainer's callbacks
    log_progress(trainer, cfg.train.progress_every_s, unit="pairs")   # instead of HF's printed dicts
    trainer.train(resume_from_checkpoint=resume)
    metrics = {"resumed_from_step": resumed_step(resume), "first_step_this_attempt": attempt.first_step}

Workers receive the typed job config itself (`config["cfg"]`), never a dict of strings; extra
objects (e.g. an ObjectRef to prepared data) travel as further keys of the same config dict.
Fault tolerance: with `max_failures > 0` a dead worker makes Ray restart the whole worker group,
and each worker resumes from the latest checkpoint in storage (RayTrainReportCallback's layout:
<ray checkpoint>/checkpoint/ holds the HF checkpoint, optimizer, scheduler and RNG states). A job
run again with the same storage resumes the same way: Ray Train reads the run's checkpoint list
(checkpoint_manager_snapshot.json) back from storage, so a killed job's rerun starts at its last
checkpoint, on local disk or in a bucket alike.

Storage: output_dir and scaling.storage_path may be s3:// / gs:// URIs. Checkpoints go straight to
the storage location through rayscore.io.filesystem (RunConfig's storage_filesystem); the driver
writes the run's other files in a local staging dir and uploads them to output_dir when the run
ends (rayscore.io.local_output).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from rayscore.config import range_problems
from rayscore.io import absolute, exists, filesystem, is_uri, join
from rayscore.logs import Progress, format_rate, quiet_libraries

logger = logging.getLogger(__name__)

MODEL_SUBDIR = "model"


@dataclass
class ScalingSpec:
    """Where training runs: workers, devices, storage and fault tolerance."""

    num_workers: int = 2
    """Ray Train workers (one process each; DDP over gloo on CPU, NCCL on GPU)."""
    use_gpu: bool = False
    """One GPU per worker when true."""
    cpus_per_worker: float = 1.0
    """CPUs reserved per worker."""
    storage_path: str | None = None
    """Checkpoints and results (local dir or s3:// / gs:// URI); null = <output_dir>/ray_results."""
    max_failures: int = 0
    """Worker-group restarts allowed; each resumes from the latest checkpoint."""
    checkpoints_to_keep: int = 2
    """Latest checkpoints kept in storage."""

    def check(self) -> list[str]:
        # max_failures -1: unlimited restarts
        return range_problems(self, num_workers=">= 1", cpus_per_worker="> 0", max_failures=">= -1")


@dataclass
class TrainResult:
    """What a training job returns: the exported model directory and the run's metrics; ok once
    the model is there."""

    model_dir: Path | str
    """A local Path, or a URI (str) when output_dir is one."""
    metrics: dict

    @property
    def ok(self) -> bool:
        return exists(self.model_dir)


def model_location(output_dir: str) -> Path | str:
    """Where a run's model dir ends up: <output_dir>/model (a Path, or a URI)."""
    return join(output_dir, MODEL_SUBDIR) if is_uri(output_dir) else Path(output_dir, MODEL_SUBDIR)


def absolute_paths(cfg):
    """A training job config (output_dir, data.train_path / eval_path, model.name_or_path,
    scaling.storage_path) with its local paths made absolute on the driver."""
    return replace(
        cfg, output_dir=absolute(cfg.output_dir),
        data=replace(cfg.data, train_path=absolute(cfg.data.train_path), eval_path=absolute(cfg.data.eval_path)),
        model=replace(cfg.model, name_or_path=absolute(cfg.model.name_or_path, names=True)),
        scaling=replace(cfg.scaling, storage_path=absolute(cfg.scaling.storage_path)))


def torch_trainer(train_loop, cfg, scaling: ScalingSpec, name: str, **extra):
    """A TorchTrainer for `train_loop(config)` with `config = {"cfg": cfg, **extra}`."""
    from ray.train import CheckpointConfig, FailureConfig, LoggingConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    storage = scaling.storage_path or join(cfg.output_dir, "ray_results")
    return TorchTrainer(
        train_loop,
        train_loop_config={"cfg": cfg, **extra},
        scaling_config=ScalingConfig(
            num_workers=scaling.num_workers,
            use_gpu=scaling.use_gpu,
            resources_per_worker={"CPU": scaling.cpus_per_worker, **({"GPU": 1} if scaling.use_gpu else {})},
        ),
        torch_config=TorchConfig(backend="nccl" if scaling.use_gpu else "gloo"),
        run_config=RunConfig(
            name=name,
            **storage_location(storage),
            failure_config=FailureConfig(max_failures=scaling.max_failures),
            checkpoint_config=CheckpointConfig(num_to_keep=scaling.checkpoints_to_keep),
            # Ray Train's own INFO lines (resources requested, worker group started, process
            # group set up) stay in its log files under the session dir, off the console.
            logging_config=LoggingConfig(log_level="WARNING"),
        ),
    )


def storage_location(storage: str) -> dict:
    """RunConfig's storage keys: a local path as it is; a URI as rayscore.io's filesystem and the
    path inside it, so checkpoints go through the client every other file of the job goes through."""
    if not is_uri(storage):
        return {"storage_path": storage}
    fs, path = filesystem(storage)
    return {"storage_path": path, "storage_filesystem": fs}


TrainPrecision = Literal["float32", "bfloat16", "float16"]


@dataclass
class TrainSpec:
    """The optimisation settings every training job shares, read by trainer_arguments; a job's
    spec subclasses it, adding its own keys and its own defaults."""

    epochs: float = 1.0
    """Passes over the training data (ignored when max_steps > 0)."""
    max_steps: int = -1
    """Stop after this many optimiser steps (-1: run all epochs)."""
    learning_rate: float = 5e-4
    """Peak AdamW learning rate."""
    batch_size_per_worker: int = 16
    """Examples per worker per step."""
    warmup_ratio: float = 0.05
    """Share of steps spent warming the learning rate up."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    precision: TrainPrecision = "float32"
    """Mixed precision: bfloat16 on GPUs (and recent CPUs), float32 for exact CPU runs (and DeepSpeed on CPU)."""
    logging_steps: int = 10
    """Record the loss every N steps (log_history.json, the training curves)."""
    progress_every_s: float = 30.0
    """Seconds between progress log lines (steps done/total, steps/s, examples/s, ETA, loss)."""
    save_steps: int = 50
    """Checkpoint to Ray storage every N steps (what a restarted worker group resumes from)."""
    seed: int = 0
    """Seed for the head's or adapter's initialisation and the data order."""
    report_to: list[str] = field(default_factory=list)
    """Trackers the finished run is logged to: tensorboard (out/tensorboard), mlflow
    ($MLFLOW_TRACKING_URI, else out/mlruns)."""

    def check(self) -> list[str]:
        problems = range_problems(self, learning_rate="> 0", batch_size_per_worker=">= 1")
        if self.epochs <= 0 and self.max_steps <= 0:
            problems.append("epochs: must be > 0 unless max_steps > 0")
        problems += range_problems(self, warmup_ratio="[0, 1)", logging_steps=">= 1", save_steps=">= 1")
        unknown = [t for t in self.report_to if t not in ("tensorboard", "mlflow")]
        if unknown:
            problems.append(f"report_to: unknown tracker(s) {unknown}; choose from tensorboard, mlflow")
        return problems


def trainer_arguments(train: TrainSpec, workdir: str, use_gpu: bool) -> dict:
    """The HF TrainingArguments every training job sets alike, from its train spec (epochs,
    max_steps, learning_rate, batch_size_per_worker, warmup_ratio, weight_decay, logging_steps,
    save_steps, precision, seed): the schedule, checkpoints every save_steps (what Ray persists),
    and how a Ray Train worker runs (no reports, no tqdm, no dataloader processes). A job adds its
    own (RewardConfig / SFTConfig) keys."""
    return dict(
        output_dir=workdir,
        num_train_epochs=train.epochs,
        max_steps=train.max_steps,
        learning_rate=train.learning_rate,
        per_device_train_batch_size=train.batch_size_per_worker,
        warmup_steps=train.warmup_ratio,  # a float < 1 is a share of the steps (transformers 5)
        weight_decay=train.weight_decay,
        logging_steps=train.logging_steps,
        save_strategy="steps",
        save_steps=train.save_steps,
        report_to="none",
        seed=train.seed,
        bf16=train.precision == "bfloat16",  # TRL's default is bf16=True: CPU runs want it off
        fp16=train.precision == "float16",
        use_cpu=not use_gpu,
        ddp_find_unused_parameters=False,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )


def local_workdir(prefix: str) -> str:
    """A per-worker scratch dir for the HF trainer's own checkpoints (Ray persists them)."""
    return tempfile.mkdtemp(prefix=f"rayscore-{prefix}-")


def restore_checkpoint(workdir: str) -> str | None:
    """The HF checkpoint dir inside Ray's latest checkpoint, copied locally; None on a fresh start."""
    import ray.train

    checkpoint = ray.train.get_checkpoint()
    if checkpoint is None:
        return None
    with checkpoint.as_directory() as path:
        source = Path(path, "checkpoint")
        if not source.exists():
            return None
        target = Path(workdir, "resume", "checkpoint")
        shutil.copytree(source, target, dirs_exist_ok=True)
    logger.info("resuming from %s", checkpoint.path)
    return str(target)


def resumed_step(checkpoint_dir: str | None) -> int:
    """The optimiser step an HF checkpoint was saved at (its trainer_state.json); 0 on a fresh start."""
    if checkpoint_dir is None:
        return 0
    state = Path(checkpoint_dir, "trainer_state.json")
    return int(json.loads(state.read_text())["global_step"]) if state.exists() else 0


def attempt_callback():
    """An HF TrainerCallback whose `first_step` is the first optimiser step this process ran: after
    a restart it is the checkpoint's step + 1, not 1 -- the run resumed instead of starting over."""
    from transformers import TrainerCallback

    class AttemptCallback(TrainerCallback):
        def __init__(self):
            self.first_step: int | None = None

        def on_step_end(self, args, state, control, **kwargs):
            if self.first_step is None:
                self.first_step = int(state.global_step)

    return AttemptCallback()


def log_progress(trainer, every_s: float, unit: str) -> None:
    """The first worker logs "train 20/208 steps, 0.5 steps/s, ETA 6 min 24 s; 16.0 pairs/s, loss
    0.53" every every_s seconds, each evaluation, and the run's total at the end; HF's
    PrinterCallback (a print() of every log dict, on with disable_tqdm) goes."""
    from transformers import PrinterCallback, TrainerCallback

    class ProgressCallback(TrainerCallback):
        def __init__(self):
            self.progress: Progress | None = None
            self.latest: dict = {}
            self.per_step = 0

        def on_train_begin(self, args, state, control, **kwargs):
            self.per_step = args.per_device_train_batch_size * args.gradient_accumulation_steps * args.world_size
            self.progress = Progress(state.max_steps, unit="steps", every_s=every_s, what="train",
                                     log=logger, start=state.global_step)

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            if state.is_world_process_zero and any(k.startswith("eval_") for k in logs):
                shown = {k[len("eval_"):]: v for k, v in logs.items()
                         if k.startswith("eval_") and not k.endswith(("runtime", "per_second"))}
                logger.info("eval at step %d: %s", state.global_step,
                            ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in shown.items()))
            self.latest.update({k: logs[k] for k in ("loss", "accuracy") if k in logs})

        def on_step_end(self, args, state, control, **kwargs):
            if state.is_world_process_zero and self.progress is not None:
                self.progress.done = state.global_step  # the pairs/s note reads this step's rate
                self.progress.update(state.global_step, self.rate_note(), **self.latest)

        def on_train_end(self, args, state, control, **kwargs):
            if state.is_world_process_zero and self.progress is not None:
                self.progress.finish(self.rate_note(), **self.latest)

        def rate_note(self) -> str:
            return f"{format_rate(self.progress.rate * self.per_step)} {unit}/s"

    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(ProgressCallback())


def report_final(metrics: dict, model_dir: str | None) -> None:
    """Every worker reports once more; rank 0 attaches the finished model as the last checkpoint."""
    import ray.train

    checkpoint = ray.train.Checkpoint.from_directory(model_dir) if model_dir else None
    ray.train.report(metrics={**metrics, "final": 1}, checkpoint=checkpoint)


def export_final_checkpoint(result, output_dir: str | Path) -> Path:
    """Copy the model from the run's last checkpoint into <output_dir>/model (a local dir)."""
    if result.error:
        raise RuntimeError(f"training failed: {result.error}") from result.error
    if result.checkpoint is None:
        raise RuntimeError("training finished without a final checkpoint")
    target = Path(output_dir, MODEL_SUBDIR)
    if target.exists():
        shutil.rmtree(target)
    with result.checkpoint.as_directory() as path:
        shutil.copytree(path, target)
    return target


def is_rank_zero() -> bool:
    import ray.train

    return ray.train.get_context().get_world_rank() == 0


def setup_worker_logging() -> None:
    """First thing in a training worker: library noise off, and only the first worker logs
    information (the others would repeat each line; their warnings still show)."""
    import ray.train

    quiet_libraries()
    if ray.train.get_context().get_world_rank() != 0:
        logging.getLogger("rayscore").setLevel(logging.WARNING)


def threads_for_worker(cpus: float) -> None:
    """Torch threads = the CPUs this worker was given (Ray sets OMP_NUM_THREADS=1 otherwise)."""
    import torch

    n = max(1, int(cpus))
    torch.set_num_threads(n)
    os.environ["OMP_NUM_THREADS"] = str(n)


def fit(trainer, cfg, workdir: str, attempt, unit: str) -> dict:
    """Train on a Ray Train worker, as every training job does: Ray's process group wired in
    (prepare_trainer), progress logged, resumed from the latest checkpoint Ray restored; returns
    the run's metrics (loss, steps, examples/s as `train_<unit>_per_s`, resume point)."""
    from ray.train.huggingface.transformers import prepare_trainer

    trainer = prepare_trainer(trainer)
    log_progress(trainer, cfg.train.progress_every_s, unit=unit)
    resume = restore_checkpoint(workdir)
    started = time.time()
    train_output = trainer.train(resume_from_checkpoint=resume)
    return {
        "train_loss": float(train_output.training_loss), "steps": int(trainer.state.global_step),
        f"train_{unit}_per_s": round(train_output.metrics.get("train_samples_per_second", 0.0), 2),
        "train_time_s": round(time.time() - started, 1), "num_workers": cfg.scaling.num_workers,
        "deepspeed_stage": cfg.deepspeed.stage,
        "resumed_from_step": resumed_step(resume), "first_step_this_attempt": attempt.first_step,
    }
