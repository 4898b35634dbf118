from dataclasses import dataclass, field
from typing import ClassVar, Literal

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


@dataclass
class InputSpec:
    path: str = ""
    """Read from here."""
    columns: list[str] = field(default_factory=lambda: ["text"])
    """Columns read."""

    def check(self) -> list[str]:
        return [] if self.path else ["path: required (a file)"]


@dataclass
class ComposedJobConfig:
    """A job that runs another's section and fills part of it itself (like distill)."""

    SET_BY_JOB: ClassVar[tuple[str, ...]] = ("step.path",)

    output_dir: str = ""
    """Where everything goes; the job reads this first line only if nothing cuts it
    in the middle of its sentence."""
    inner: InnerSpec = field(default_factory=lambda: InnerSpec(size=7, mode="b"))
    """Not the section class's own defaults."""
    step: InputSpec = field(default_factory=InputSpec)
    """The composed step; step.path is set by the job."""

    def check(self) -> list[str]:
        return [] if self.output_dir else ["output_dir: required (a directory)"]


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
    with pytest.raises(ConfigError, match="no such file, nor a shipped config"):
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


def test_a_nested_override_keeps_the_parents_defaults_for_the_rest_of_the_section():
    cfg = load_config(ComposedJobConfig, ["output_dir=o", "inner.size=3"])
    assert cfg.inner == InnerSpec(size=3, mode="b")  # mode stays the parent's "b", not InnerSpec's "a"
    assert load_config(ComposedJobConfig, ["output_dir=o"]).inner == InnerSpec(size=7, mode="b")


def test_a_misspelt_key_gets_a_suggestion():
    with pytest.raises(ConfigError) as err:
        load_config(DemoJobConfig, ["inner.szie=3", "rat=1", "zzz=1"])
    assert sorted(err.value.problems) == [
        "inner.szie (from command line): unknown key; did you mean 'inner.size'?",
        "rat (from command line): unknown key; did you mean 'rate'?",
        "zzz (from command line): unknown key (known here: inner, limit, names, path, rate)"]


def test_a_key_the_job_sets_itself_is_refused(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(ComposedJobConfig, ["output_dir=o", "step.path=mine.parquet"])
    assert err.value.problems == [
        "step.path (from command line): set by the job itself (it would be overwritten); leave it out"]
    path = write(tmp_path, {"step": {"path": "mine.parquet"}})
    with pytest.raises(ConfigError, match=rf"step.path \(from {path}\): set by the job itself"):
        load_config(ComposedJobConfig, ["--config", path, "output_dir=o"])
    # Its default, as a saved config.yaml holds it, loads; its section's check (path required) is skipped.
    cfg = load_config(ComposedJobConfig, ["output_dir=o", "step.path=", "step.columns=[a]"])
    assert cfg.step == InputSpec(path="", columns=["a"])


def test_help_prints_the_resolved_values_and_marks_required_keys(tmp_path, capsys):
    path = write(tmp_path, {"inner": {"size": 9}})
    with pytest.raises(SystemExit) as done:
        load_config(ComposedJobConfig, ["--config", path, "inner.mode=a", "--help"])
    assert done.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert "inner.size = 9  [int]  How many." in lines
    assert "inner.mode = 'a'  ['a' | 'b']  Which mode." in lines
    assert any(line.startswith("output_dir = (required)  [str]") for line in lines)
    assert any(line.startswith("step.path = (set by the job)  [str]") for line in lines)
    assert "step.columns = ['text']  [list of str]  Columns read." in lines


def test_help_shows_other_problems_after_the_keys(capsys):
    with pytest.raises(SystemExit):
        load_config(DemoJobConfig, ["inner.size=-1", "-h"])
    out = capsys.readouterr().out
    assert out.rstrip().endswith("problems:\n  inner.size (from command line): must be > 0, got -1")
    assert "inner.size = -1  [int]" in out


def test_help_lines_hold_the_whole_docstring():
    line = next(line for line in describe(ComposedJobConfig).splitlines() if line.startswith("output_dir ="))
    assert line.endswith("only if nothing cuts it in the middle of its sentence.")


@dataclass
class Limits:
    workers: int = 1
    share: float = 0.5
    rows: int | None = None
    score_range: list[float] | None = None


@pytest.mark.parametrize(("values", "problems"), [
    ({}, []),
    ({"workers": 0}, ["workers: must be >= 1, got 0"]),
    ({"share": 1.0}, ["share: must be in [0, 1), got 1.0"]),
    ({"rows": None}, []),                                       # a limit left unset is within every range
    ({"rows": -1}, ["rows: must be > -1, got -1"]),
    ({"score_range": [10, 1]}, ["score_range: must be [low, high] with low <= high, got [10, 1]"]),
    ({"score_range": [1]}, ["score_range: must be [low, high] with low <= high, got [1]"]),
])
def test_range_and_interval_rules_name_the_field_the_rule_and_the_value(values, problems):
    from rayscore.config import interval_problems, range_problems

    obj = Limits(**values)
    found = range_problems(obj, workers=">= 1", share="[0, 1)", rows="> -1") + interval_problems(obj, "score_range")
    assert found == problems


def test_a_range_that_is_not_one_is_a_programming_error():
    from rayscore.config import range_problems

    with pytest.raises(ValueError, match="1..10"):
        range_problems(Limits(), workers="1..10")
