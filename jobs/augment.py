"""Augment a dataset through a hosted LLM: generate, check the format, keep what a rubric judge passes.

Run as:
  python -m jobs.augment --config configs/augment/reading_zh.yaml input=data/reading_items.jsonl
"""

from rayscore.config import load_config
from rayscore.entry import run_job
from rayscore.judge.augment import AugmentJobConfig, run
from rayscore.logs import setup_logging


def main(argv: list[str] | None = None) -> int:
    setup_logging()
    cfg = load_config(AugmentJobConfig, argv)
    return 0 if run(cfg).ok else 1


if __name__ == "__main__":
    raise SystemExit(run_job(main))
