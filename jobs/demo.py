"""The end-to-end demo: address records generated, a quality model trained and records scored.

Generates address records, trains a check-augmented reward model on Ray Train, labels records
with Ray Data, and prints the model beside the rules-only baseline on generated and on
hand-written real-style records. Under 10 minutes on 2 idle CPU cores.

Run as:
  python -m jobs.demo                      # the configs below
  python -m jobs.demo generate_records.score_rows=1000000   # any job's key, prefixed by its name
"""

import sys

from rayscore.addresses.demo import format_report, run_demo
from rayscore.addresses.generate import GenerateJobConfig
from rayscore.config import ConfigError, load_config
from rayscore.entry import run_job
from rayscore.logs import setup_logging
from rayscore.runtime import ensure_ray
from rayscore.score.config import ScoreJobConfig
from rayscore.train.reward import RewardJobConfig

STEPS = {
    "generate_records": (GenerateJobConfig, "configs/generate_records/demo.yaml"),
    "train_reward": (RewardJobConfig, "configs/train_reward/addresses.yaml"),
    "score_batch": (ScoreJobConfig, "configs/score_batch/addresses.yaml"),
}


def main(argv: list[str] | None = None) -> int:
    setup_logging()
    argv = sys.argv[1:] if argv is None else argv
    # A word no step reads would otherwise be dropped silently, and the demo run without it.
    stray = [a for a in argv if not a.startswith(tuple(name + "." for name in STEPS))]
    if stray:
        raise ConfigError([f"{a!r}: expected <step>.key=value, step one of {', '.join(STEPS)}" for a in stray])
    cfgs = {}
    for name, (cls, path) in STEPS.items():
        overrides = [a.split(".", 1)[1] for a in argv if a.startswith(name + ".")]
        cfgs[name] = load_config(cls, ["--config", path, *overrides])
    ensure_ray()
    report = run_demo(cfgs)
    print(format_report(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(run_job(main))
