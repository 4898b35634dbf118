"""The audit loop: pick the scored rows a person should label and export them; import their labels;
learn from them (train again, score again, report).

Run as:
  python -m jobs.audit --config configs/audit/addresses.yaml                        # step pick
  python -m jobs.audit --config configs/audit/addresses.yaml step=import labelled=export.json
  python -m jobs.audit --config configs/audit/addresses.yaml step=learn labelled=export.json
"""

from rayscore.audit.config import AuditJobConfig
from rayscore.audit.job import run
from rayscore.config import load_config
from rayscore.entry import run_job
from rayscore.logs import setup_logging


def train_fold(records_path: str, output_dir: str, config: str, overrides: list[str]) -> str:
    """label_issues' k-fold loop: one train_reward run on a fold's records (Ray Train); its model dir."""
    from rayscore.runtime import ensure_ray
    from rayscore.train.reward import RewardJobConfig, run as train_reward

    ensure_ray()
    words = ["--config", config, *overrides, f"data.train_path={records_path}", "data.format=records",
             f"output_dir={output_dir}"]
    return str(train_reward(load_config(RewardJobConfig, words)).model_dir)


def main(argv: list[str] | None = None) -> int:
    setup_logging()
    cfg = load_config(AuditJobConfig, argv)
    if cfg.step == "learn" or (cfg.step == "pick" and cfg.score_config):
        from rayscore.runtime import ensure_ray

        ensure_ray()
    spec = cfg.pick.label_issues
    return 0 if run(cfg, lambda path, out: train_fold(path, out, spec.train_config, spec.train_overrides)).ok else 1


if __name__ == "__main__":
    raise SystemExit(run_job(main))
