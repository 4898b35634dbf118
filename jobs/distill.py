"""Distil a teacher's grades into a student classifier, then score and filter a corpus with it.

Run as:
  python -m jobs.distill --config configs/distill/demo.yaml          # offline demo, a few minutes
  python -m jobs.distill --config configs/distill/edu.yaml corpus=data/web \
      judge.http.base_url=http://127.0.0.1:8000/v1 judge.http.model=Qwen/Qwen2.5-72B-Instruct
"""

from rayscore.config import load_config
from rayscore.distill.config import DistillJobConfig
from rayscore.distill.job import run
from rayscore.entry import run_job
from rayscore.logs import setup_logging
from rayscore.runtime import ensure_ray


def main(argv: list[str] | None = None) -> int:
    setup_logging()
    cfg = load_config(DistillJobConfig, argv)
    ensure_ray()
    return 0 if run(cfg).ok else 1


if __name__ == "__main__":
    raise SystemExit(run_job(main))
