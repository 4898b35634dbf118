"""Every scorer kind, directly and through score_batch on a real local Ray: reward (text and
conversation columns), pair (Bradley-Terry), quality (threshold chosen on a labelled set, with the
session's trained quality model) and generative (expected score and greedy answer of a tiny
causal LM trained here to give known answers)."""

import glob

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rayscore.score.job import ScoreJobConfig, run
from rayscore.score.scorers import ScorerSpec, ThresholdSpec, build_scorer
from tiny_models import char_tokenizer, save_tiny, tiny_causal_lm, tiny_reward_model

# prompt -> the answer the tiny LM is trained to give
ANSWERS = {
    "游戏厂商中的R星你能打几颗星:": "9.7",
    "手机品牌中的诺基亚你能打几颗星:": "3",
    "球队中的湖人你能打几颗星:": "10",
    "城市中的火星你能打几颗星:": "无法评价",
}
PROMPTS = ["What is 2+2?", "Name a colour.", "写一首诗", "Say hi"]
RESPONSES = ["4", "It is definitely blue, a deep and calm blue.", "床前明月光", "hi"]


def train_answers(model, tok, answers: dict[str, str], steps: int = 60):
    """LM loss on the answer tokens of the chat-rendered (prompt, answer) pairs, until memorised."""
    import torch

    seqs, starts = [], []
    for prompt, answer in answers.items():
        user = [{"role": "user", "content": prompt}]
        starts.append(len(tok.apply_chat_template(user, add_generation_prompt=True, tokenize=True,
                                                  return_dict=True)["input_ids"]))
        seqs.append(tok.apply_chat_template(user + [{"role": "assistant", "content": answer}], tokenize=True,
                                            return_dict=True)["input_ids"])
    width = max(len(s) for s in seqs)
    ids = torch.tensor([s + [tok.pad_token_id] * (width - len(s)) for s in seqs])
    positions = torch.arange(width)[None]
    mask = (positions < torch.tensor([len(s) for s in seqs])[:, None]).long()
    labels = ids.masked_fill((mask == 0) | (positions < torch.tensor(starts)[:, None]), -100)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model on a shared 2-core machine: one thread is fastest
    try:
        model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(steps):
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)
    return model.eval(), loss.item()


@pytest.fixture(scope="module")
def tiny_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("score_models")
    tok = char_tokenizer(list(ANSWERS) + list(ANSWERS.values()) + PROMPTS + RESPONSES)
    save_tiny(tiny_reward_model(tok, seed=1), tok, root / "reward")
    lm, loss = train_answers(tiny_causal_lm(tok, hidden=64, seed=2), tok, ANSWERS)
    assert loss < 0.02, f"the tiny LM did not learn its answers (loss {loss})"
    save_tiny(lm, tok, root / "lm")
    return {"reward": root / "reward", "lm": root / "lm"}


def read_parts(out) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(p) for p in sorted(glob.glob(str(out / "part-*.parquet")))],
                     ignore_index=True)


def job(tmp_path, spec: ScorerSpec, **overrides) -> ScoreJobConfig:
    return ScoreJobConfig(input=str(tmp_path / "in"), output=str(tmp_path / "out"), scorer=spec,
                          rows_per_file=1000, num_actors=1, cpus_per_actor=0.5, **overrides)


# --- reward and pair --------------------------------------------------------------------------

def test_reward_is_the_same_for_text_and_conversation_columns_and_any_batch(tiny_dirs):
    text = build_scorer(ScorerSpec(kind="reward", model_dir=str(tiny_dirs["reward"]), batch_size=3))
    frame = pd.DataFrame({"prompt": PROMPTS, "response": RESPONSES})
    rewards = text.score(frame)["reward"].to_numpy()
    assert len(set(np.round(rewards, 6))) == len(PROMPTS)  # a real function of the input
    conv = build_scorer(ScorerSpec(kind="reward", model_dir=str(tiny_dirs["reward"]), messages_column="messages"))
    messages = [[{"role": "user", "content": p}, {"role": "assistant", "content": r}]
                for p, r in zip(PROMPTS, RESPONSES)]
    assert conv.score(pd.DataFrame({"messages": messages}))["reward"].to_numpy() == pytest.approx(rewards, abs=1e-5)
    # Dynamic padding: a row scored alone equals the same row batched with longer ones.
    alone = [text.score(frame.iloc[[i]])["reward"].iloc[0] for i in range(len(frame))]
    assert np.array(alone) == pytest.approx(rewards, abs=1e-5)


def test_pair_is_bradley_terry_over_the_reward(tiny_dirs):
    spec = ScorerSpec(kind="pair", model_dir=str(tiny_dirs["reward"]))
    pair = build_scorer(spec)
    frame = pd.DataFrame({"prompt": PROMPTS, "chosen": RESPONSES, "rejected": RESPONSES[::-1]})
    out = pair.score(frame)
    reward = build_scorer(ScorerSpec(kind="reward", model_dir=str(tiny_dirs["reward"])))
    chosen = reward.score(pd.DataFrame({"prompt": PROMPTS, "response": RESPONSES}))["reward"]
    assert out["reward_chosen"].to_numpy() == pytest.approx(chosen.to_numpy(), abs=1e-5)
    assert out["margin"].to_numpy() == pytest.approx((out.reward_chosen - out.reward_rejected).to_numpy())
    assert out["p_chosen"].to_numpy() == pytest.approx(1 / (1 + np.exp(-out["margin"].to_numpy())))
    assert (out["preferred"] == np.where(out["margin"] > 0, "chosen", "rejected")).all()
    swapped = pair.score(frame.rename(columns={"chosen": "rejected", "rejected": "chosen"}))
    assert swapped["margin"].to_numpy() == pytest.approx(-out["margin"].to_numpy(), abs=1e-5)


@pytest.mark.slow
def test_reward_and_pair_through_score_batch(ray_local, tiny_dirs, tmp_path):
    struct = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
    messages = [[{"role": "user", "content": p}, {"role": "assistant", "content": r}]
                for p, r in zip(PROMPTS, RESPONSES)]
    messages.append([{"role": "assistant", "content": "no user turn is fine"}, {"role": "user", "content": "but last"}])
    (tmp_path / "in").mkdir()
    pq.write_table(pa.table({"record_id": [f"m{i}" for i in range(5)], "messages": pa.array(messages, struct)}),
                   tmp_path / "in" / "a.parquet")
    spec = ScorerSpec(kind="reward", model_dir=str(tiny_dirs["reward"]), messages_column="messages")
    summary = run(job(tmp_path, spec, max_quarantine_share=0.5)).data
    assert summary["ok"] and (summary["rows_scored"], summary["rows_quarantined"]) == (4, 1)
    assert summary["quarantine_reasons"] == {"bad_messages": 1}
    out = read_parts(tmp_path / "out")
    direct = build_scorer(spec).score(pd.DataFrame({"messages": messages[:4]}))["reward"]
    assert out.sort_values("record_id")["reward"].to_numpy() == pytest.approx(direct.to_numpy(), abs=1e-5)

    pair_dir = tmp_path / "pair"
    (pair_dir / "in").mkdir(parents=True)
    pd.DataFrame({"record_id": ["p0", "p1", "p2", "p3"], "prompt": PROMPTS, "chosen": RESPONSES,
                  "rejected": ["", "x", "y", "z"]}).to_parquet(pair_dir / "in" / "a.parquet")
    summary = run(job(pair_dir, ScorerSpec(kind="pair", model_dir=str(tiny_dirs["reward"])),
                      max_quarantine_share=0.5)).data
    assert summary["quarantine_reasons"] == {"empty_text:rejected": 1}
    out = read_parts(pair_dir / "out")
    assert list(out["record_id"]) == ["p1", "p2", "p3"]
    assert {"reward_chosen", "reward_rejected", "margin", "p_chosen", "preferred", "fingerprint"} <= set(out)
    assert sum(summary["value_counts"]["preferred"].values()) == 3


# --- quality: threshold from a labelled validation set ----------------------------------------

@pytest.mark.slow
def test_quality_threshold_chosen_on_validation_set(ray_local, quality_model_dir, tiny_records, tmp_path):
    validation = tmp_path / "validation.parquet"
    pd.read_parquet(tiny_records / "score").head(120).to_parquet(validation)
    spec = ScorerSpec(kind="quality", model_dir=str(quality_model_dir), batch_size=64, max_seq_len=64,
                      threshold_from=ThresholdSpec(path=str(validation), best_f1=True))
    cfg = ScoreJobConfig(input=str(validation), output=str(tmp_path / "out"), scorer=spec, rows_per_file=150,
                         num_actors=1, cpus_per_actor=0.5)
    summary = run(cfg).data
    choice = summary["threshold_choice"]
    assert summary["ok"] and summary["threshold"] == choice["threshold"] and choice["n"] == 120
    out = read_parts(tmp_path / "out")
    by_model = out.decided_by == "model"
    assert ((out.p_correct >= choice["threshold"]) == (out.label == "正确"))[by_model].all()
    assert (out.label[~by_model] == "错误").all()
    # Scored on the same rows, the model's own labels reproduce the choice's F1 exactly (positive = 错误).
    overall = summary["model_baseline"]["overall"]
    assert overall["f1"] == pytest.approx(choice["f1"], abs=1e-4)
    assert overall["precision"] == pytest.approx(choice["precision"], abs=1e-4)


# --- generative -------------------------------------------------------------------------------

def test_generative_expected_and_greedy_scores(tiny_dirs):
    scorer = build_scorer(ScorerSpec(kind="generative", model_dir=str(tiny_dirs["lm"]), greedy=True, batch_size=2))
    out = scorer.score(pd.DataFrame({"prompt": list(ANSWERS)}))
    assert list(out.columns) == ["expected_score", "digit_mass", "answer", "greedy_score", "parse_ok"]
    assert list(out["answer"]) == list(ANSWERS.values())
    assert out["expected_score"][:3].to_numpy() == pytest.approx([9.7, 3.0, 10.0], abs=0.15)
    assert (out["digit_mass"][:3] > 0.9).all() and out["digit_mass"][3] < 0.1  # it declines to rate
    assert out["greedy_score"][:3].tolist() == [9.7, 3.0, 10.0]
    assert out["parse_ok"].tolist() == [True, True, True, False] and np.isnan(out["greedy_score"][3])


@pytest.mark.slow
def test_generative_through_score_batch(ray_local, tiny_dirs, tmp_path):
    (tmp_path / "in").mkdir()
    prompts = list(ANSWERS) + [None]
    frame = pd.DataFrame({"record_id": [f"g{i}" for i in range(5)], "prompt": prompts})
    frame.to_parquet(tmp_path / "in" / "a.parquet")
    spec = ScorerSpec(kind="generative", model_dir=str(tiny_dirs["lm"]), greedy=True, dtype="bfloat16")
    summary = run(job(tmp_path, spec, max_quarantine_share=0.5)).data
    assert summary["ok"] and summary["quarantine_reasons"] == {"null_text": 1}
    assert summary["value_counts"]["parse_ok"] == {"True": 3, "False": 1}
    out = read_parts(tmp_path / "out").set_index("record_id")
    assert out.loc["g0", "answer"] == "9.7" and out.loc["g0", "greedy_score"] == 9.7
    assert pd.isna(out.loc["g3", "greedy_score"]) and not out.loc["g3", "parse_ok"]  # null, not 0
    assert out.loc["g2", "expected_score"] == pytest.approx(10.0, abs=0.3)  # bf16 autocast agrees
