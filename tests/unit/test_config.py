from dataclasses import dataclass, field
from typing import Literal

import pytest
import yaml

from rayscore.config import ConfigError, describe, load_config, parse_config, save_config


@dataclass
class InnerSpec:
    size: int = 2
    """How many."""
    mode: Literal["a", "b"] = "a"
    """Which mode."""

    def check(self) -> list[str]:
        return [] if self.size > 0 else [f"size: must be > 0, got {self.size}"]


@dataclass
class DemoJobConfig:
    path: str = ""
    """Where."""
    rate: float = 0.5
    """How fast."""
    names: list[str] = field(default_factory=list)
    """Some names."""
    limit: int | None = None
    """Optional cap."""
    inner: InnerSpec = field(default_factory=InnerSpec)
    """Nested settings."""


def write(tmp_path, data) -> str:
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return str(path)


def test_layers_merge_in_order(tmp_path):
    path = write(tmp_path, {"path": "from-yaml", "rate": 1, "inner": {"size": 5}})
    cfg = load_config(DemoJobConfig, ["--config", path, "inner.mode=b", "names=[x, y]", "limit=3"])
    assert cfg.path == "from-yaml"
    assert cfg.rate == 1.0 and isinstance(cfg.rate, float)
    assert cfg.inner == InnerSpec(size=5, mode="b")  # size from YAML, mode from the command line
    assert cfg.names == ["x", "y"] and cfg.limit == 3


def test_override_beats_yaml(tmp_path):
    path = write(tmp_path, {"inner": {"size": 5}})
    assert load_config(DemoJobConfig, ["--config", path, "inner.size=9"]).inner.size == 9


def test_all_problems_reported_together_with_key_and_source(tmp_path):
    path = write(tmp_path, {"rat": 1, "inner": {"size": "big"}})
    with pytest.raises(ConfigError) as err:
        load_config(DemoJobConfig, ["--config", path, "inner.mode=c"])
    message = str(err.value)
    assert len(err.value.problems) == 3
    assert f"rat (from {path}): unknown key" in message
    assert f"inner.size (from {path}): expected int, got 'big'" in message
    assert "inner.mode (from command line): expected 'a' | 'b', got 'c'" in message


def test_value_rules_run_after_types(tmp_path):
    with pytest.raises(ConfigError, match=r"inner.size \(from command line\): must be > 0, got -1"):
        load_config(DemoJobConfig, ["inner.size=-1"])


def test_bool_is_not_an_int():
    with pytest.raises(ConfigError, match="expected int"):
        parse_config(InnerSpec, [({"size": True}, "test")])


def test_missing_file_and_bad_words():
    with pytest.raises(ConfigError, match="file not found"):
        load_config(DemoJobConfig, ["--config", "/nonexistent.yaml"])
    with pytest.raises(ConfigError, match="expected --config FILE or key=value"):
        load_config(DemoJobConfig, ["--verbose"])


def test_saved_config_loads_back_identically(tmp_path):
    cfg = load_config(DemoJobConfig, ["path=p", "names=[甲, 乙]", "inner.size=4"])
    saved = save_config(cfg, tmp_path / "out" / "config.yaml")
    assert load_config(DemoJobConfig, ["--config", str(saved)]) == cfg


def test_describe_lists_every_key_with_its_docstring():
    text = describe(DemoJobConfig)
    assert "inner.size = 2  [int]  How many." in text
    assert "limit = None  [int | null]  Optional cap." in text
