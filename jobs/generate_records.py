"""Generate labelled digital-twin address records (train and score sets) as parquet.

Run as:
  python -m jobs.generate_records --config configs/generate_records/demo.yaml
  python -m jobs.generate_records --config configs/generate_records/demo.yaml score_rows=1000000
"""

from rayscore.addresses.generate import GenerateJobConfig, run
from rayscore.config import load_config
from rayscore.entry import run_job
from rayscore.logs import setup_logging


def main(argv: list[str] | None = None) -> int:
    setup_logging()
    cfg = load_config(GenerateJobConfig, argv)
    return 0 if run(cfg) else 1


if __name__ == "__main__":
    raise SystemExit(run_job(main))
