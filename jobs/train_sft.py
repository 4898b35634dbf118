"""Train a generative score model (TRL SFTTrainer + PEFT LoRA) on Ray Train workers.

Then compares its scores with the base model's on the held-out prompts.

Run as:
  python -m jobs.train_sft --config configs/train_sft/hupu.yaml data.train_path=data/hupu.csv
  ray job submit --working-dir . --runtime-env cluster/runtime_env.yaml -- \
      python -m jobs.train_sft --config configs/train_sft/hupu.yaml data.train_path=s3://bucket/hupu.csv
"""

from rayscore.config import load_config
from rayscore.entry import run_job
from rayscore.logs import setup_logging
from rayscore.runtime import ensure_ray
from rayscore.train.sft import SftJobConfig, run


def main(argv: list[str] | None = None) -> int:
    setup_logging()
    cfg = load_config(SftJobConfig, argv)
    ensure_ray()
    return 0 if run(cfg).ok else 1


if __name__ == "__main__":
    raise SystemExit(run_job(main))
