"""Serve a trained scorer over HTTP with Ray Serve (batched, autoscaled); blocks until Ctrl-C.

Run as:
  python -m jobs.serve_scorer --config configs/serve_scorer/addresses.yaml
  RAY_AUTH_MODE=token ray job submit --working-dir . --runtime-env cluster/runtime_env.yaml -- \
      python -m jobs.serve_scorer --config configs/serve_scorer/addresses.yaml host=0.0.0.0 \
      scorer.model_dir=/mnt/shared/model
  serve run rayscore.serve.app:build_app config=configs/serve_scorer/addresses.yaml   # same app

Then: curl localhost:8000/healthz, POST /v1/score, docs at /docs. `block=false` returns once the
app is running (on a cluster it keeps serving; `serve shutdown` or `serve delete scorer` ends it).
"""

from rayscore.config import load_config
from rayscore.entry import run_job
from rayscore.logs import setup_logging
from rayscore.runtime import ensure_ray
from rayscore.serve.app import ServeJobConfig, run


def main(argv: list[str] | None = None) -> int:
    setup_logging()
    cfg = load_config(ServeJobConfig, argv)
    ensure_ray()
    return 0 if run(cfg).ok else 1


if __name__ == "__main__":
    raise SystemExit(run_job(main))
