"""The Hupu converter: exact samples, skipped `-` scores, duplicates, quarantine, a stable split."""

import json

import pandas as pd
import pytest

from rayscore.data.hupu import SftDataSpec, convert_hupu_csv, in_eval_split, load_sft_data, split_samples, to_sample
from rayscore.io import write_jsonl

HEADER = "Head,Ids,Introduce,Title,TitleHot,TitleScore,Comments,Starts"
ROWS = [
    "游戏厂商评分,101,游戏厂商,R星,4341,9.7,神|良心,120|80",
    "游戏厂商评分,102,游戏厂商,育碧,2210,6.3,土豆服务器,55",
    "手机品牌评分,201,手机品牌,某新品牌,12,-,,",                 # no score yet: skipped
    "游戏厂商评分,103,游戏厂商,R星,4341,9.5,重复,1",              # same prompt again: dropped
    "手机品牌评分,202,手机品牌,,33,7.1,,",                        # empty title: quarantined
    "手机品牌评分,203,手机品牌,小米,900,很好,,",                  # not a number: quarantined
    "手机品牌评分,204,手机品牌,华为,800,11.5,,",                  # above 10: quarantined
    "手机品牌评分,205,手机品牌,苹果,950,8.8,,,多余,字段",         # too many fields: quarantined
    "手机品牌评分,206,手机品牌,三星",                              # too few fields: quarantined
    "  城市评分 ,301, 城市 , 北京 ,5000, 10 ,故宫,3",             # padded fields: stripped
]


def write_csv(tmp_path, rows, header=HEADER, name="hupu.csv"):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)


def test_exact_samples_and_account(tmp_path):
    conversion = convert_hupu_csv(write_csv(tmp_path, ROWS))
    assert conversion.samples.to_dict("records") == [
        {"instruction": "游戏厂商中的R星你能打几颗星:", "input": "", "output": "9.7"},
        {"instruction": "游戏厂商中的育碧你能打几颗星:", "input": "", "output": "6.3"},
        {"instruction": "城市中的北京你能打几颗星:", "input": "", "output": "10"},
    ]
    assert conversion.counts == {
        "rows": 10, "samples": 3, "no_score": 1, "duplicate_prompts": 1, "quarantined": 5,
        "quarantined_by_reason": {"bad_score": 1, "empty_title": 1, "score_out_of_range": 1,
                                  "too_few_fields": 1, "too_many_fields": 1},
    }
    bad = conversion.quarantined.set_index("Ids")
    assert bad.loc["203", "reason"] == "bad_score" and bad.loc["203", "TitleScore"] == "很好"
    assert bad.loc["205", "extra_fields"] == "多余|字段"
    assert bad.loc["202", "line"] == 6  # the CSV line, header = line 1


def test_first_of_duplicate_prompts_is_kept(tmp_path):
    conversion = convert_hupu_csv(write_csv(tmp_path, ROWS[:4]))
    kept = conversion.samples.set_index("instruction")["output"]
    assert kept["游戏厂商中的R星你能打几颗星:"] == "9.7"


def test_missing_column_names_file_and_column(tmp_path):
    path = write_csv(tmp_path, ["a,1,游戏厂商,R星,1,9.7,,"],
                     header="Head,Ids,Introduce,Name,TitleHot,TitleScore,Comments,Starts")
    with pytest.raises(ValueError, match=r"hupu\.csv: missing column\(s\) Title"):
        convert_hupu_csv(path)


def test_bom_and_unused_columns_absent(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_text("\ufeffIntroduce,Title,TitleScore\n游戏厂商,R星,9.7\n", encoding="utf-8")
    assert convert_hupu_csv(str(path)).samples["output"].tolist() == ["9.7"]


def test_split_is_deterministic_and_by_prompt():
    samples = pd.DataFrame([to_sample({"Introduce": f"类别{i % 7}", "Title": f"对象{i}", "TitleScore": "5.0"})
                            for i in range(4000)])
    train, held_out = split_samples(samples, eval_ratio=0.1)
    assert len(train) + len(held_out) == 4000
    assert 300 < len(held_out) < 500  # ~10 %
    assert not set(train["instruction"]) & set(held_out["instruction"])
    # Order does not matter: shuffled rows give the same held-out prompts.
    _, again = split_samples(samples.sample(frac=1, random_state=3), eval_ratio=0.1)
    assert set(again["instruction"]) == set(held_out["instruction"])
    # A larger ratio only adds prompts to the validation side.
    _, larger = split_samples(samples, eval_ratio=0.2)
    assert set(held_out["instruction"]) < set(larger["instruction"])
    assert in_eval_split("游戏厂商中的R星你能打几颗星:", 0.005) == in_eval_split("游戏厂商中的R星你能打几颗星:", 0.005)


def test_load_sft_data_from_csv_and_from_samples(tmp_path):
    rows = [f"h,{i},类别{i % 3},对象{i},1,{i % 10}.5,," for i in range(200)]
    data = load_sft_data(SftDataSpec(train_path=write_csv(tmp_path, rows), eval_ratio=0.2))
    assert data.counts["train_samples"] + data.counts["eval_samples"] == 200
    assert 20 < len(data.eval) < 70

    path = tmp_path / "samples.jsonl"
    write_jsonl(pd.concat([data.train, data.eval, data.eval.head(3)]), path)  # 3 duplicates
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"instruction": "", "input": "", "output": "5"}, ensure_ascii=False) + "\n")
        fh.write(json.dumps({"instruction": "x", "input": "", "output": "n/a"}, ensure_ascii=False) + "\n")
    again = load_sft_data(SftDataSpec(train_path=str(path), format="samples", eval_ratio=0.2))
    assert again.counts["quarantined_by_reason"] == {"bad_score": 1, "empty_instruction": 1}
    assert again.counts["duplicate_prompts"] == 3
    # The same prompts land on the same side whichever format they came in.
    assert set(again.eval["instruction"]) == set(data.eval["instruction"])
    assert again.train.to_dict("records") == data.train.to_dict("records")


def test_eval_file_prompts_are_removed_from_train(tmp_path):
    rows = [f"h,{i},类别,对象{i},1,5.5,," for i in range(20)]
    data = load_sft_data(SftDataSpec(train_path=write_csv(tmp_path, rows),
                                     eval_path=write_csv(tmp_path, rows[:5], name="eval.csv")))
    assert len(data.eval) == 5 and len(data.train) == 15
    assert data.counts["train_prompts_also_in_eval"] == 5


def test_spec_checks():
    assert SftDataSpec(train_path="x").check() == []
    assert any(p.startswith("eval_ratio") for p in SftDataSpec(train_path="x", eval_ratio=0).check())
    assert any(p.startswith("train_path") for p in SftDataSpec().check())


@pytest.mark.parametrize("name", ["hupu", "tiny"])
def test_train_sft_configs_load(name):
    from rayscore.config import load_config
    from rayscore.train.sft import SftJobConfig

    cfg = load_config(SftJobConfig, ["--config", f"configs/train_sft/{name}.yaml"])
    assert cfg.lora.enabled and cfg.lora.r == 8 and cfg.model.split_digits
    if name == "hupu":
        assert (cfg.train.learning_rate, cfg.train.epochs, cfg.data.eval_ratio) == (1e-4, 3, 0.005)
        assert cfg.model.name_or_path == "Qwen/Qwen2-0.5B-Instruct" and cfg.scaling.use_gpu
