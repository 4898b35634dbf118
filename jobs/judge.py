"""Judge answers with an LLM: pointwise rubric scores or pairwise verdicts in both orders.

Run as:
  python -m jobs.judge --config configs/judge/pointwise_http_zh.yaml input=data/answers.jsonl output_dir=out/judged
  python -m jobs.judge --config configs/judge/pairwise_local.yaml local.model_path=out/judge_model
  ray job submit --working-dir . -- python -m jobs.judge --config configs/judge/pairwise_http_zh.yaml
"""

from rayscore.config import load_config
from rayscore.entry import run_job
from rayscore.judge.job import JudgeJobConfig, run
from rayscore.logs import setup_logging
from rayscore.runtime import ensure_ray


def main(argv: list[str] | None = None) -> int:
    setup_logging()
    cfg = load_config(JudgeJobConfig, argv)
    ensure_ray()  # both backends run on an actor pool (the scoring pipeline)
    return 0 if run(cfg).ok else 1


if __name__ == "__main__":
    raise SystemExit(run_job(main))
