"""Train a text classifier or regressor (HF Trainer + PEFT LoRA) on Ray Train workers.

Run as:
  python -m jobs.train_classifier --config configs/train_classifier/edu_scores.yaml
  ray job submit --working-dir . --runtime-env cluster/runtime_env.yaml -- \
      python -m jobs.train_classifier --config configs/train_classifier/edu_scores.yaml scaling.use_gpu=true
"""

from rayscore.config import load_config
from rayscore.entry import run_job
from rayscore.logs import setup_logging
from rayscore.runtime import ensure_ray
from rayscore.train.classifier import ClassifierJobConfig, run


def main(argv: list[str] | None = None) -> int:
    setup_logging()
    cfg = load_config(ClassifierJobConfig, argv)
    ensure_ray()
    return 0 if run(cfg).ok else 1


if __name__ == "__main__":
    raise SystemExit(run_job(main))
