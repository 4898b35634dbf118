"""The data check: duplicates counted and set aside, near duplicates found, train/eval overlap
refused, a two-template set refused with its figure, a varied set passing, its config validated,
and each training job (reward, classifier, SFT) running it on its rows. No Ray.

    .venv/bin/pytest tests/unit/test_data_check.py -q
"""

import random

import pandas as pd
import pytest
from datasketch import MinHash

from rayscore.addresses.records import generate_records
from rayscore.config import ConfigError, load_config
from rayscore.data.data_check import (
    DataCheckError,
    DataCheckSpec,
    check_data,
    distinct_n,
    signatures,
)
from rayscore.data.hupu import SftDataSpec
from rayscore.data.labels import LabelDataSpec
from rayscore.data.preferences import PreferenceDataSpec
from rayscore.entry import USER_ERRORS
from rayscore.models import ModelSpec, load_tokenizer
from rayscore.train.classifier import ClassifierJobConfig, prepare_rows
from rayscore.train.reward import RewardJobConfig, prepare_pairs
from rayscore.train.sft import SftJobConfig, prepare_sft_data
from tiny_models import char_tokenizer

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"


def texts(frame: pd.DataFrame) -> list[str]:
    return frame["text"].tolist()


def frame(rows: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"text": rows, "label": [i % 2 for i in range(len(rows))]})


def varied(n: int, seed: int = 0) -> list[str]:
    return generate_records(n, seed=seed)["text"].tolist()


def two_templates(n_each: int, seed: int = 0) -> pd.DataFrame:
    """Address-quality records from two templates: only the names and the digits vary."""
    rng = random.Random(seed)

    def name() -> str:
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))

    def digits(k: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(k))

    rows = [f"{name()},北京市朝阳区望京街道阜通东大街{rng.randint(1, 99)}号院{rng.randint(1, 20)}号楼"
            f"{rng.randint(1, 6)}单元{rng.randint(101, 2505)}室,邮编:1001{digits(2)},联系电话:13{digits(9)}"
            for _ in range(n_each)]
    rows += [f"{name()}，浙江省杭州市西湖区文三路{rng.randint(1, 999)}号{rng.randint(1, 30)}幢"
             f"{rng.randint(101, 1808)}室，手机：+86 15{digits(9)}，邮政编码：3100{digits(2)}"
             for _ in range(n_each)]
    rng.shuffle(rows)
    return pd.DataFrame({"text": rows, "label": [rng.choice(["正确", "错误"]) for _ in rows]})


def test_signatures_are_datasketchs_minhash_of_the_ngrams():
    rows = ["浙江省杭州市西湖区文三路123号", "hello world", "abc", ""]
    sigs = signatures(rows, 5, 128)
    grams = [[t[i:i + 5] for i in range(len(t) - 4)] for t in rows[:2]] + [["abc"], [""]]   # short: one n-gram
    for row, its_grams in zip(sigs, grams, strict=True):
        minhash = MinHash(num_perm=128, seed=1)
        minhash.update_batch([g.encode() for g in its_grams])
        assert (minhash.hashvalues == row).all()
    assert signatures([], 5, 128).shape == (0, 128)


def test_distinct_n_is_the_share_of_distinct_character_ngrams():
    assert distinct_n(["aab", "ab"], 1) == round(2 / 5, 4)
    assert distinct_n(["aab", "ab"], 2) == round(2 / 3, 4)   # aa, ab | ab: none across the two texts
    assert distinct_n([], 1) == 0.0


def test_exact_duplicates_are_counted_and_set_aside_keeping_the_first():
    rows = varied(300)
    again = [rows[5], rows[5], " " + rows[7] + "\n"]   # whitespace at the ends is not a difference
    train = frame(rows[:200] + again)
    checked = check_data(train, frame(rows[200:]), texts, DataCheckSpec())
    assert checked.report["exact_duplicates"] == 3 and checked.report["near_duplicates"] == 0
    assert checked.report["train_rows_in"] == 203 and checked.report["train_rows_out"] == 200
    assert checked.train["text"].tolist() == rows[:200]  # the first of each cluster stays, in order
    assert checked.set_aside["text"].tolist() == again and set(checked.set_aside["reason"]) == {"duplicate"}
    assert len(checked.eval) == 100

    counted = check_data(train, frame(rows[200:]), texts, DataCheckSpec(drop_duplicates=False))
    assert counted.report["exact_duplicates"] == 3 and len(counted.train) == 203 and not len(counted.set_aside)


def test_near_duplicates_are_found_and_distinct_rows_are_not():
    rows = varied(400, seed=1)
    near = ["某" + rows[10], rows[20][:-1] + "X", rows[30] + "。"]   # one character added or changed
    far = [rows[40][: len(rows[40]) // 2]]                            # half a record is another text
    checked = check_data(frame(rows + near + far), frame([]), texts, DataCheckSpec())
    assert checked.report["near_duplicates"] == 3 and checked.report["exact_duplicates"] == 0
    assert checked.set_aside["text"].tolist() == near
    assert len(checked.train) == 401


def test_an_eval_row_repeating_a_training_row_is_refused_with_the_count_and_an_example():
    rows = varied(500, seed=2)
    evaluation = frame(rows[400:] + [rows[3], "x" + rows[9]])
    with pytest.raises(DataCheckError) as refused:
        check_data(frame(rows[:400]), evaluation, texts, DataCheckSpec())
    message = str(refused.value)
    assert "2 of 102 eval rows repeat a training row" in message
    assert rows[3][:40] in message and "data_check.eval_overlap=drop_from_train" in message

    dropped = check_data(frame(rows[:400]), evaluation, texts, DataCheckSpec(eval_overlap="drop_from_train"))
    assert dropped.set_aside["text"].tolist() == [rows[3], rows[9]]
    assert set(dropped.set_aside["reason"]) == {"overlaps_eval"}
    assert len(dropped.eval) == 102 and dropped.report["eval_rows_overlapping_train"] == 2

    kept = check_data(frame(rows[:400]), evaluation, texts, DataCheckSpec(eval_overlap="keep"))
    assert len(kept.train) == 400 and kept.report["eval_rows_overlapping_train"] == 2


def test_two_templates_of_ten_thousand_rows_each_are_refused_naming_the_figure_and_the_limit():
    records = two_templates(10_000)
    train, evaluation = records.iloc[:18_000], records.iloc[18_000:]
    with pytest.raises(DataCheckError) as refused:
        check_data(train, evaluation, texts, DataCheckSpec(eval_overlap="keep"))
    message = str(refused.value)
    share = float(message.split("holds ")[1].split("%")[0]) / 100
    assert 0.45 <= share <= 0.55, message   # one of the two templates, about half the rows
    assert "data_check.max_template_share=0.3" in message and "data_check.allow_low_diversity=true" in message

    allowed = check_data(train, evaluation, texts, DataCheckSpec(eval_overlap="keep", allow_low_diversity=True))
    assert allowed.report["low_diversity"] and allowed.report["low_diversity_allowed"]
    assert allowed.report["largest_template_share"] == pytest.approx(share, abs=0.001)
    assert len(allowed.train) == len(train) - allowed.report["exact_duplicates"] - allowed.report["near_duplicates"]


def test_a_varied_set_passes_and_reports_its_diversity(caplog):
    records = generate_records(5000, seed=3)
    with caplog.at_level("INFO", logger="rayscore.data.data_check"):
        checked = check_data(records.iloc[:4500], records.iloc[4500:], texts, DataCheckSpec())
    report = checked.report
    assert report["largest_template_share"] < 0.05 and not report["low_diversity"]
    assert report["exact_duplicates"] == report["near_duplicates"] == report["eval_rows_overlapping_train"] == 0
    assert 0 < report["distinct_1"] < report["distinct_2"] < 1
    lines = [r.message for r in caplog.records if r.message.startswith("data check:")]
    assert len(lines) == 1 and "4,500 training rows" in lines[0] and "largest template" in lines[0]


def test_a_refusal_is_a_users_mistake():
    assert DataCheckError in USER_ERRORS   # run_job prints its lines and exits 2, no traceback


@pytest.mark.parametrize("cls", [RewardJobConfig, ClassifierJobConfig, SftJobConfig])
def test_config_problems_name_the_key(cls):
    with pytest.raises(ConfigError) as bad:
        load_config(cls, ["data.train_path=x", "data_check.eval_overlap=ignore", "data_check.num_perms=64"])
    problems = "\n".join(bad.value.problems)
    assert "data_check.eval_overlap (from command line): expected 'refuse' | 'drop_from_train' | 'keep'" in problems
    assert "data_check.num_perms (from command line): unknown key; did you mean 'data_check.num_perm'?" in problems
    with pytest.raises(ConfigError) as bad:
        load_config(cls, ["data.train_path=x", "data_check.near_duplicate_threshold=1.5",
                          "data_check.max_template_share=0"])
    problems = "\n".join(bad.value.problems)
    assert "data_check.near_duplicate_threshold (from command line): must be in [0.5, 0.95], got 1.5" in problems
    assert "data_check.max_template_share (from command line): must be in (0, 1], got 0" in problems
    cfg = load_config(cls, ["data.train_path=x", "data_check.allow_low_diversity=true"])
    assert cfg.data_check.allow_low_diversity and cfg.data_check.drop_duplicates


# --- each job runs it on its rows ------------------------------------------------------------------

@pytest.fixture(scope="module")
def minilm():
    return load_tokenizer(ModelSpec(name_or_path="minilm", max_seq_len=96, add_chinese_chars=False))


def test_train_reward_sets_a_duplicate_pair_aside(minilm, tmp_path):
    records = generate_records(80, seed=4)
    train = pd.concat([records.iloc[:60], records.iloc[[7]]], ignore_index=True)
    train.to_parquet(tmp_path / "train.parquet")
    records.iloc[60:].to_parquet(tmp_path / "valid.parquet")
    cfg = RewardJobConfig(data=PreferenceDataSpec(train_path=str(tmp_path / "train.parquet"),
                                                  eval_path=str(tmp_path / "valid.parquet"), format="records"),
                          model=ModelSpec(name_or_path="minilm", max_seq_len=96, add_chinese_chars=False))
    data = prepare_pairs(cfg, minilm)
    assert data.account()["quarantine_reasons"] == {"duplicate": 1}
    assert data.account()["input_pairs"] == 81 and len(data.train) == 60 and len(data.eval) == 20
    assert data.data_check["exact_duplicates"] == 1 and data.data_check["train_rows_out"] == 60


def test_train_classifier_refuses_an_overlap_and_sets_a_near_duplicate_aside(minilm, tmp_path):
    rows = varied(100, seed=5)
    pd.DataFrame({"text": rows + ["某" + rows[2]], "label": [i % 2 for i in range(101)]}
                 ).to_parquet(tmp_path / "train.parquet")
    pd.DataFrame({"text": varied(20, seed=6) + [rows[50]], "label": 0}).to_parquet(tmp_path / "eval.parquet")
    data_spec = LabelDataSpec(train_path=str(tmp_path / "train.parquet"), eval_path=str(tmp_path / "eval.parquet"))
    cfg = ClassifierJobConfig(data=data_spec, model=ModelSpec(name_or_path="minilm", max_seq_len=96,
                                                              add_chinese_chars=False))
    with pytest.raises(DataCheckError, match="1 of 21 eval rows repeat a training row"):
        prepare_rows(cfg, minilm)
    cfg.data_check.eval_overlap = "drop_from_train"
    data = prepare_rows(cfg, minilm)
    assert data.account()["quarantine_reasons"] == {"near_duplicate": 1, "overlaps_eval": 1}
    assert len(data.train) == 99 and len(data.eval) == 21 and data.data_check["near_duplicates"] == 1


def test_train_sft_sets_a_near_duplicate_sample_aside(tmp_path):
    prompts = [f"{t}你能打几颗星:" for t in varied(120, seed=7)]
    samples = pd.DataFrame({"instruction": prompts + ["某" + prompts[4]], "output": "7.5"})
    samples.to_json(tmp_path / "samples.jsonl", orient="records", lines=True, force_ascii=False)
    held_out = pd.DataFrame({"instruction": [f"{t}你能打几颗星:" for t in varied(20, seed=8)], "output": "6.0"})
    held_out.to_json(tmp_path / "eval.jsonl", orient="records", lines=True, force_ascii=False)
    cfg = SftJobConfig(data=SftDataSpec(train_path=str(tmp_path / "samples.jsonl"), format="samples",
                                        eval_path=str(tmp_path / "eval.jsonl")),
                       model=ModelSpec(name_or_path="unused", max_seq_len=512, add_chinese_chars=False))
    data = prepare_sft_data(cfg, char_tokenizer([*samples["instruction"], *held_out["instruction"]]))
    aside = data.quarantined[data.quarantined["reason"] == "near_duplicate"]
    assert aside["instruction"].tolist() == ["某" + prompts[4]] and set(aside["split"]) == {"train"}
    assert data.counts["set_aside_by_data_check"] == 1
    assert data.counts["train_samples"] == 120 and data.counts["eval_samples"] == 20
    assert data.data_check["near_duplicates"] == 1
