"""Score parquet records with a trained scorer on a Ray Data actor pool (exactly once, resumable).

Run as:
  python -m jobs.score_batch --config configs/score_batch/addresses.yaml input=data/in output=data/out
  ray job submit --working-dir . --runtime-env cluster/runtime_env.yaml -- \
      python -m jobs.score_batch --config configs/score_batch/addresses.yaml
"""

from rayscore.config import load_config
from rayscore.entry import run_job
from rayscore.logs import setup_logging
from rayscore.runtime import ensure_ray
from rayscore.score.job import ScoreJobConfig, run


def main(argv: list[str] | None = None) -> int:
    setup_logging()
    cfg = load_config(ScoreJobConfig, argv)
    ensure_ray()
    return 0 if run(cfg).ok else 1


if __name__ == "__main__":
    raise SystemExit(run_job(main))
