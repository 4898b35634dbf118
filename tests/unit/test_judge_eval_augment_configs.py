"""Every YAML in configs/judge, configs/evaluate and configs/augment loads into its job's config."""

from pathlib import Path

import pytest

from rayscore.config import ConfigError, load_config
from rayscore.eval.config import EvaluateJobConfig
from rayscore.judge.augment import AugmentJobConfig
from rayscore.judge.job import JudgeJobConfig

ROOT = Path(__file__).resolve().parents[2]
CLASSES = {"judge": JudgeJobConfig, "evaluate": EvaluateJobConfig, "augment": AugmentJobConfig}
FILES = sorted((job, path) for job in CLASSES for path in (ROOT / "configs" / job).glob("*.yaml"))


def test_every_job_has_configs():
    assert {job for job, _ in FILES} == set(CLASSES)
    assert len(FILES) >= 15


@pytest.mark.parametrize("job,path", FILES, ids=[f"{job}/{p.name}" for job, p in FILES])
def test_config_file_loads(job, path):
    cfg = load_config(CLASSES[job], ["--config", str(path)])
    assert isinstance(cfg, CLASSES[job])


def test_judge_modes_in_configs():
    judge = {p.stem: load_config(JudgeJobConfig, ["--config", str(p)]) for _, p in FILES if p.parent.name == "judge"}
    assert {(c.mode, c.backend) for c in judge.values()} == {("pointwise", "http"), ("pairwise", "http"),
                                                             ("pairwise", "local")}
    assert judge["pairwise_filter_http_en"].filter_consistent
    assert judge["pointwise_http_zh"].reference_column and not judge["pairwise_http_zh"].reference_column


def test_mode_and_template_mismatch_is_caught(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(JudgeJobConfig, ["--config", str(ROOT / "configs/judge/pairwise_http_zh.yaml"),
                                     "template=score10_zh", "filter_consistent=true", "backend=local"])
    text = str(err.value)
    assert "has no {answer_1} placeholder" in text and "has no {answer_2} placeholder" in text
    assert "local.model_path: required for backend=local" in text
    with pytest.raises(ConfigError, match="http.model: required for backend=http"):
        load_config(JudgeJobConfig, ["input=x.jsonl", "output_dir=out"])
    with pytest.raises(ConfigError, match="template 'no_such_template' not found"):
        load_config(JudgeJobConfig, ["input=x", "output_dir=o", "http.model=m", "template=no_such_template"])
