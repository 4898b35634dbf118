"""Every YAML in configs/ loads into its job's config class, so a renamed key or a bad value in a
shipped config fails here and not on somebody's cluster."""

from pathlib import Path

import pytest

from rayscore.addresses.generate import GenerateJobConfig
from rayscore.audit.config import AuditJobConfig
from rayscore.config import load_config
from rayscore.distill.config import DistillJobConfig
from rayscore.eval.config import EvaluateJobConfig
from rayscore.judge.augment import AugmentJobConfig
from rayscore.judge.job import JudgeJobConfig
from rayscore.score.config import ScoreJobConfig
from rayscore.serve.app import ServeJobConfig
from rayscore.train.classifier import ClassifierJobConfig
from rayscore.train.reward import RewardJobConfig
from rayscore.train.sft import SftJobConfig

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
CLASSES = {
    "generate_records": GenerateJobConfig,
    "train_reward": RewardJobConfig,
    "train_classifier": ClassifierJobConfig,
    "train_sft": SftJobConfig,
    "score_batch": ScoreJobConfig,
    "judge": JudgeJobConfig,
    "augment": AugmentJobConfig,
    "evaluate": EvaluateJobConfig,
    "distill": DistillJobConfig,
    "serve_scorer": ServeJobConfig,
    "audit": AuditJobConfig,
}
YAMLS = sorted(p for p in CONFIGS.glob("*/*.yaml"))


def test_every_config_folder_names_a_job():
    folders = {p.name for p in CONFIGS.iterdir() if p.is_dir()}
    assert folders == set(CLASSES)
    for job in CLASSES:
        assert (CONFIGS.parent / "jobs" / f"{job}.py").exists(), f"configs/{job}/ has no jobs/{job}.py"


@pytest.mark.parametrize("path", YAMLS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_config_loads(path):
    cfg = load_config(CLASSES[path.parent.name], ["--config", str(path)])
    assert cfg is not None


def test_each_job_has_a_tiny_config():
    for job in CLASSES:
        assert (CONFIGS / job / "tiny.yaml").exists(), f"configs/{job}/tiny.yaml is missing"
