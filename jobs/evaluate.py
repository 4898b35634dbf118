"""Evaluate predictions against gold labels: metrics.json + PNG plots (no Ray needed).

Run as:
  python -m jobs.evaluate --config configs/evaluate/judge_vs_human.yaml
  python -m jobs.evaluate --config configs/evaluate/regression.yaml predictions=out/sft/predictions.jsonl
"""

from rayscore.config import load_config
from rayscore.entry import run_job
from rayscore.eval.config import EvaluateJobConfig
from rayscore.eval.job import run
from rayscore.logs import setup_logging


def main(argv: list[str] | None = None) -> int:
    setup_logging()
    cfg = load_config(EvaluateJobConfig, argv)
    return 0 if run(cfg).ok else 1


if __name__ == "__main__":
    raise SystemExit(run_job(main))
