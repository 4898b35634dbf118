import pandas as pd
import pytest

from rayscore.data.pairs import records_to_pairs
from rayscore.data.preferences import PreferenceDataSpec, load_preferences, split_pairs


def test_pairs_follow_the_seed_design_for_correct_and_wrong_records():
    records = pd.DataFrame({
        "record_id": ["a", "b"],
        "text": ["张三,北京市朝阳区望京街道123号院5号楼,邮编:100102,联系电话:13812345678",
                 "李四,北京市朝阳区望京街道1号,邮编:10010222,联系电话:13812345678"],
        "label": ["正确", "错误"],
        "error_type": ["none", "postcode_length"],
    })
    pairs = records_to_pairs(records)
    assert pairs.loc[0, "chosen"] == [{"role": "user", "content": records.text[0]},
                                      {"role": "assistant", "content": "正确"}]
    assert pairs.loc[0, "rejected"] == [{"role": "user", "content": records.text[0]},
                                        {"role": "assistant", "content": "错误"}]
    assert pairs.loc[1, "chosen"][1]["content"] == "错误"
    assert pairs.loc[1, "rejected"][1]["content"] == "正确"
    assert (pairs.score_chosen == 1.0).all() and (pairs.score_rejected == 0.0).all()
    assert list(pairs.record_id) == ["a", "b"] and list(pairs.error_type) == ["none", "postcode_length"]


def test_unknown_label_names_the_row():
    with pytest.raises(ValueError, match=r"row 1: label='maybe'"):
        records_to_pairs(pd.DataFrame({"text": ["x", "y"], "label": ["正确", "maybe"]}))


def test_preference_shapes_and_bad_rows_are_quarantined(tmp_path):
    rows = [
        {"prompt": "q1", "chosen": "good", "rejected": "bad"},                     # plain text
        {"prompt": "q2", "chosen": "same", "rejected": "same"},                    # identical
        {"prompt": "q3", "chosen": "", "rejected": "bad"},                         # empty
        {"prompt": "q4", "chosen": None, "rejected": "bad"},                       # missing
        {"prompt": "q5", "chosen": 5, "rejected": "bad"},                          # wrong type
    ]
    path = tmp_path / "pairs.jsonl"
    pd.DataFrame(rows).to_json(path, orient="records", lines=True, force_ascii=False)
    good, bad = load_preferences(PreferenceDataSpec(train_path=str(path)))
    assert len(good) == 1 and len(bad) == 4
    assert sorted(bad.reason) == ["bad_type_chosen", "chosen_equals_rejected", "empty_chosen", "missing_chosen"]
    assert good.loc[0, "chosen"] == [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "good"}]


def test_conversational_shape_is_kept(tmp_path):
    chosen = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    rejected = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "go away"}]
    path = tmp_path / "pairs.parquet"
    pd.DataFrame({"chosen": [chosen], "rejected": [rejected], "score_chosen": [8.0],
                  "score_rejected": [2.0]}).to_parquet(path)
    good, bad = load_preferences(PreferenceDataSpec(train_path=str(path)))
    assert len(bad) == 0 and good.loc[0, "chosen"] == chosen and good.loc[0, "rejected"] == rejected


def test_split_is_deterministic_and_disjoint():
    records = pd.DataFrame({"text": [f"记录{i}" for i in range(1000)], "label": ["正确", "错误"] * 500})
    pairs = records_to_pairs(records)
    train, evaluation = split_pairs(pairs, 0.1, seed=3)
    again_train, _ = split_pairs(pairs, 0.1, seed=3)
    assert train.equals(again_train)
    assert 50 < len(evaluation) < 150 and len(train) + len(evaluation) == 1000
    prompts = lambda df: {c[0]["content"] for c in df.chosen}  # noqa: E731
    assert not prompts(train) & prompts(evaluation)


def test_records_format_quarantines_bad_records_and_keeps_the_subset_column(tmp_path):
    records = pd.DataFrame({
        "text": ["张三,北京市朝阳区望京街道123号院5号楼", "李四,邮编:10010222", "  ", "王五,上海市"],
        "label": ["正确", "错误", "正确", "也许"],
        "error_type": ["none", "postcode_length", "none", "none"],
    })
    path = tmp_path / "records.parquet"
    records.to_parquet(path)
    good, bad = load_preferences(PreferenceDataSpec(train_path=str(path), format="records"), require_scores=True)
    assert len(good) == 2 and list(bad.reason) == ["bad_record", "bad_record"]
    assert list(bad.text) == ["  ", "王五,上海市"]
    assert list(good.error_type) == ["none", "postcode_length"]
    assert (good.score_chosen - good.score_rejected == 1.0).all()  # records always give a margin of 1
