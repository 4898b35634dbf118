"""The judge job end to end on the scoring pipeline (real local Ray): the HTTP backend against a fake
endpoint on loopback (retries, error rows, truncated completions, the swap, the consistency filter),
and the local backend on a tiny causal LM."""

import json

import pandas as pd
import pytest

from fake_judge_server import FakeJudgeServer
from jobs.judge import main
from rayscore.judge.job import read_judgements
from rayscore.judge.prompts import load_template, render

TINY = "configs/judge/tiny.yaml"


@pytest.fixture
def server(ray_local):
    with FakeJudgeServer() as fake:
        yield fake


def read_outputs(out):
    """Every row of a run, in id order: judged, errors (requests that failed) and quarantined."""
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    frames = [read_judgements(out, errors=True)]
    if (out / "quarantine").is_dir():
        frames.append(pd.read_parquet(out / "quarantine"))
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True).sort_values("id", ignore_index=True), summary


# --- pointwise --------------------------------------------------------------------------------

POINTWISE_ROWS = [
    {"id": "q0", "question": "写一首关于秋天的诗", "answer": "秋风起，落叶黄。", "score": 1},
    {"id": "q1", "question": "1+1等于几？", "answer": "等于2。"},
    {"id": "q2", "question": "介绍长城", "answer": "长城是古代的防御工程。"},
    {"id": "q3", "question": "翻译 hello", "answer": "你好"},
    {"id": "q4", "question": "解释光合作用", "answer": None},
    {"id": "q5", "question": "推荐一本书", "answer": "《红楼梦》"},
    {"id": "q6", "question": "写一句口号", "answer": "绿水青山就是金山银山"},
    {"id": "q7", "question": "写一首诗", "answer": "床前明月光"},
]
# What the fake judge says about each row's prompt (q3 gets 500s, q4 is never sent).
POINTWISE_ANSWERS = {
    "q0": "意境不错，但篇幅太短。\n评分：[[6]]",
    "q1": "回答正确。Score: 9/10",
    "q2": "内容基本正确。\n评分：８",           # full-width digit
    "q5": "我无法对这个回答打分。",              # a refusal: no score, not 0
    "q6": "总分:36分",                           # out of the 1-10 range: no score
    "q7": "评分：8分，因为",                      # cut off by max_tokens (finish_reason length)
}


def pointwise_prompt(row):
    return render(load_template("score10_zh"), question=row["question"], answer=row["answer"], reference=None,
                  rubric=None)


def test_pointwise_http_scores_retries_and_error_rows(tmp_path, server):
    path = tmp_path / "answers.jsonl"
    pd.DataFrame(POINTWISE_ROWS).to_json(path, orient="records", lines=True, force_ascii=False)
    prompts = {row["id"]: pointwise_prompt(row) for row in POINTWISE_ROWS if row["answer"]}
    for key, text in POINTWISE_ANSWERS.items():
        server.answers[prompts[key]] = text
    server.answers[prompts["q1"]] = POINTWISE_ANSWERS["q1"]
    server.fail_first(prompts["q1"], status=429, times=2, retry_after="0")   # recovers on the 3rd try
    server.fail_first(prompts["q2"], status=503, times=1)                      # recovers on the 2nd
    server.fail_first(prompts["q3"], status=500, times=100)                    # never recovers
    server.truncated.add(prompts["q7"])
    out = tmp_path / "out"

    code = main(["--config", TINY, f"input={path}", f"output_dir={out}", f"http.base_url={server.base_url}"])

    df, summary = read_outputs(out)
    assert code == 0
    assert df["id"].tolist() == [r["id"] for r in POINTWISE_ROWS]  # every row, in input order
    by_id = df.set_index("id")
    assert by_id.loc["q0", "score"] == 6 and by_id.loc["q1", "score"] == 9 and by_id.loc["q2", "score"] == 8
    assert by_id.loc[["q0", "q1", "q2"], "parse_ok"].all()
    assert by_id.loc["q1", "attempts"] == 3 and by_id.loc["q2", "attempts"] == 2
    assert server.requests_for(prompts["q1"]) == 3
    # A refusal and an out-of-range total are parse failures with a reason, never a score.
    for key in ("q5", "q6"):
        assert not by_id.loc[key, "parse_ok"] and pd.isna(by_id.loc[key, "score"])
        assert by_id.loc[key, "raw"] == POINTWISE_ANSWERS[key] and pd.isna(by_id.loc[key, "error"])
    assert by_id.loc["q6", "parse_problem"].startswith("out of range: 36")
    # Cut off by the token limit: not read, even though "评分：8分" is in the text.
    assert pd.isna(by_id.loc["q7", "score"]) and by_id.loc["q7", "parse_problem"] == "truncated"
    # Exhausted retries: an error row (errors/, sent again by a rerun); a missing answer: quarantined.
    assert by_id.loc["q3", "error"].startswith("gave up after 4 attempts: http 500")
    assert by_id.loc["q3", "attempts"] == 4 and server.requests_for(prompts["q3"]) == 4
    assert by_id.loc["q4", "reason"] == "null_text:answer" and pd.isna(by_id.loc["q4", "raw"])
    assert pd.isna(by_id.loc["q3", "score"])
    assert by_id.loc["q0", "input_score"] == 1  # an input column named like an output column is kept apart
    # Every judgement names its judge.
    judged = by_id[by_id["reason"].isna()]
    assert (judged["judge_fingerprint"] == summary["judge"]["fingerprint"]).all()
    assert summary["judge"]["model"] == "fake-judge" and summary["judge"]["template_sha256"]

    assert summary["ok"] and summary["rows_in"] == 8
    assert summary["rows_error"] == 1 and summary["error_kinds"] == {"http 500": 1}
    assert summary["rows_quarantined"] == 1 and summary["quarantine_reasons"] == {"null_text:answer": 1}
    assert summary["rows_judged"] == 6 and summary["rows_parsed"] == 3 and summary["rows_parse_failed"] == 3
    assert summary["parse_failure_rate"] == pytest.approx(3 / 6)
    assert summary["parse_problems"]["truncated"] == 1
    assert summary["retries"] == 2 + 1 + 3
    assert summary["scores"]["n"] == 3 and summary["scores"]["mean"] == pytest.approx((6 + 9 + 8) / 3)
    assert (out / "config.yaml").exists()


def test_job_fails_when_every_request_fails(tmp_path, server):
    path = tmp_path / "answers.csv"
    pd.DataFrame(POINTWISE_ROWS).to_csv(path, index=False)  # CSV, read by the actors in row ranges
    for row in POINTWISE_ROWS[:3]:
        server.fail_first(pointwise_prompt(row), status=401, times=10)  # a wrong key is not retried
    out = tmp_path / "out"
    code = main(["--config", TINY, f"input={path}", f"output_dir={out}", f"http.base_url={server.base_url}",
                 "max_rows=3", "rows_per_chunk=2"])  # a trial run: the first 3 rows, in 2 chunks
    df, summary = read_outputs(out)
    assert code == 1 and df["id"].tolist() == ["q0", "q1", "q2"] and df["error"].str.startswith("http 401").all()
    assert not summary["ok"] and "every row failed" in summary["problems"]
    assert summary["rows_in"] == 3 and summary["chunks"] == 2
    assert server.total_requests == 3


def test_missing_input_column_fails_before_any_request(tmp_path, server):
    path = tmp_path / "answers.jsonl"
    pd.DataFrame([{"id": 1, "prompt": "x", "answer": "y"}]).to_json(path, orient="records", lines=True)
    with pytest.raises(ValueError, match="missing required column.*question"):
        main(["--config", TINY, f"input={path}", f"output_dir={tmp_path / 'out'}",
              f"http.base_url={server.base_url}"])
    assert server.total_requests == 0


# --- pairwise ---------------------------------------------------------------------------------

PAIRS = [
    # a fair judge prefers the GOOD answer in both orders
    {"id": "p0", "question": "问题0", "answer_1": "GOOD 回答", "answer_2": "普通回答"},
    {"id": "p1", "question": "问题1", "answer_1": "普通回答", "answer_2": "GOOD 回答"},
    {"id": "p2", "question": "问题2", "answer_1": "一样的回答", "answer_2": "同样的回答"},
    # position bias: whichever answer comes first wins
    {"id": "p3", "question": "问题3 BIASED", "answer_1": "回答甲", "answer_2": "回答乙"},
    # unreadable outputs
    {"id": "p4", "question": "问题4 GARBLE", "answer_1": "回答甲", "answer_2": "回答乙"},
    # the swapped order never gets an answer
    {"id": "p5", "question": "问题5", "answer_1": "GOOD 回答", "answer_2": "差的回答"},
    # the first order is throttled twice, then answered
    {"id": "p6", "question": "问题6", "answer_1": "差的回答", "answer_2": "GOOD 回答"},
]


def fair_judge(prompt: str) -> str:
    """Verdicts read off the prompt: GOOD wins, BIASED always says 1, GARBLE is not a verdict."""
    if "GARBLE" in prompt:
        return "这两个回答都有一定道理，需要更多信息。"
    if "BIASED" in prompt:
        return "1\n理由：第一个回答更好。"
    first, second = prompt.split("### 回答2：")
    if "GOOD" in first:
        return "1\n理由：回答1更完整。"
    if "GOOD" in second:
        return "Response 2 is better.\nReason: it is complete."
    return "Tie\n理由：两者相当。"


def pair_prompts(row):
    template = load_template("pairwise_zh")
    ab = render(template, question=row["question"], answer_1=row["answer_1"], answer_2=row["answer_2"])
    ba = render(template, question=row["question"], answer_1=row["answer_2"], answer_2=row["answer_1"])
    return ab, ba


def run_pairwise(tmp_path, server, name, *overrides):
    path = tmp_path / "pairs.parquet"
    pd.DataFrame(PAIRS).to_parquet(path)
    out = tmp_path / name
    code = main(["--config", TINY, f"input={path}", f"output_dir={out}", f"http.base_url={server.base_url}",
                 "mode=pairwise", "template=pairwise_zh", "score_range=null", *overrides])
    return code, out


def test_pairwise_http_both_orders_swap_logic_and_consistency_filter(tmp_path, server):
    server.responder = fair_judge
    by_key = {row["id"]: pair_prompts(row) for row in PAIRS}
    server.fail_first(by_key["p5"][1], status=500, times=100)
    server.fail_first(by_key["p6"][0], status=429, times=2, retry_after="0")

    code, out = run_pairwise(tmp_path, server, "tie", "filter_consistent=true", "max_error_share=0.2")

    df, summary = read_outputs(out)
    assert code == 0 and df["id"].tolist() == [p["id"] for p in PAIRS]
    # Both orders of every pair were sent (p5's swapped order 4 times: 1 + 3 retries).
    assert all(server.requests_for(ab) >= 1 and server.requests_for(ba) >= 1 for ab, ba in by_key.values())
    assert server.requests_for(by_key["p5"][1]) == 4 and server.requests_for(by_key["p6"][0]) == 3
    rows = df.set_index("id")

    def col(name):
        return [None if pd.isna(v) else v for v in rows[name]]

    #                              p0    p1    p2   p3     p4    p5    p6
    assert col("verdict_ab") == [1, 2, 0, 1, None, 1, 2]
    assert col("verdict_ba") == [2, 1, 0, 1, None, None, 1]
    assert col("verdict_ba_corrected") == [1, 2, 0, 2, None, None, 2]
    assert col("consistent") == [True, True, True, False, False, False, True]
    assert col("final") == [1, 2, 0, 0, None, None, 2]  # policy tie: the biased pair is a tie
    assert col("reason") == [None, None, None, "inconsistent", "parse_failed_ab_ba", "error_ba", None]
    assert rows.loc["p5", "error"].startswith("ba: gave up after 4 attempts: http 500")
    assert rows.loc["p5", "parse_ok_ab"] and not rows.loc["p5", "parse_ok_ba"]
    assert not rows.loc["p4", "parse_ok_ab"] and rows.loc["p4", "parse_problem_ab"] == "no verdict found"
    assert rows.loc["p0", "explanation_ab"] == "回答1更完整。"
    assert rows.loc["p1", "explanation_ab"] == "it is complete."
    assert rows.loc["p6", "attempts_ab"] == 3

    assert summary["rows_in"] == 7 and summary["rows_judged"] == 6 and summary["rows_error"] == 1
    assert summary["judgements_requested"] == 14 and summary["judgements_answered"] == 13
    assert summary["judgements_parse_failed"] == 2
    assert summary["parse_failure_rate"] == pytest.approx(2 / 13)
    assert summary["rows_both_parsed"] == 5 and summary["rows_consistent"] == 4
    assert summary["consistency_rate"] == pytest.approx(4 / 5)
    assert summary["verdict_counts"]["final"] == {"1": 1, "2": 2, "0": 2, "none": 2}
    assert summary["reasons"] == {"inconsistent": 1, "parse_failed_ab_ba": 1, "error_ba": 1}

    # PandaLM's filter: only the pairs whose verdict survives the swap.
    kept = pd.read_parquet(out / "consistent.parquet")
    assert kept["id"].tolist() == ["p0", "p1", "p2", "p6"]
    assert kept["verdict"].tolist() == [1, 2, 0, 2]
    assert summary["filter_consistent"]["kept"] == 4  # of the 6 judged pairs (p5 waits in errors/)
    assert summary["filter_consistent"]["dropped_by_reason"] == {"inconsistent": 1, "parse_failed_ab_ba": 1}

    # The judgements feed the evaluate job as they are: agreement with three annotators' labels.
    from jobs.evaluate import main as evaluate

    votes = {"p0": [1, 1, 2], "p1": [2, 2, 2], "p2": ["Tie", "garbage", 1], "p3": [2, 2, 1], "p4": [1, 1, 1],
             "p5": [1, "Tie", 1], "p6": [2, 1, 2]}
    human = pd.DataFrame([{"id": k, "category": "c", **{f"label_{j}": v for j, v in enumerate(labels)}}
                          for k, labels in votes.items()])
    human.to_json(tmp_path / "human.jsonl", orient="records", lines=True, force_ascii=False)
    read_judgements(out, errors=True).to_parquet(tmp_path / "judgements.parquet")
    assert evaluate(["--config", "configs/evaluate/judge_vs_human.yaml",
                     f"predictions={tmp_path / 'judgements.parquet'}",
                     f"gold={tmp_path / 'human.jsonl'}", f"output_dir={tmp_path / 'eval'}"]) == 0
    report = json.loads((tmp_path / "eval" / "metrics.json").read_text(encoding="utf-8"))
    ab = report["metrics"]["pairwise"]["ab"]
    assert (ab["n"], ab["n_missing_pred"], ab["accuracy"]) == (6, 1, pytest.approx(5 / 6))  # p4 unread; p3 wrong
    assert report["metrics"]["pairwise"]["swap"]["consistency"] == pytest.approx(4 / 5)

    # policy first: the biased pair keeps its first-order verdict; nothing else changes.
    code, out_first = run_pairwise(tmp_path, server, "first", "policy=first", "max_error_share=0.2")
    first, _ = read_outputs(out_first)
    assert first["final"].tolist()[3] == 1
    assert first.drop(index=3)["final"].equals(df.drop(index=3)["final"])


def test_reference_based_pairwise_sends_the_reference(tmp_path, server):
    server.responder = lambda prompt: "2" if "### 参考答案：\n标准答案" in prompt else "no reference seen"
    path = tmp_path / "pairs.jsonl"
    rows = [{"id": "r0", "question": "q", "answer_1": "a", "answer_2": "b", "gold_answer": "标准答案"},
            {"id": "r1", "question": "q", "answer_1": "a", "answer_2": "b", "gold_answer": ""}]
    pd.DataFrame(rows).to_json(path, orient="records", lines=True, force_ascii=False)
    out = tmp_path / "out"
    code = main(["--config", TINY, f"input={path}", f"output_dir={out}", f"http.base_url={server.base_url}",
                 "mode=pairwise", "template=pairwise_zh", "reference_column=gold_answer", "max_error_share=0.5"])
    df, summary = read_outputs(out)
    assert code == 0
    assert df["verdict_ab"].tolist()[0] == 2 and df["verdict_ba"].tolist()[0] == 2
    # A reference-based row without its reference is set aside, not judged reference-free.
    assert df["reason"].tolist()[1] == "empty_text:gold_answer" and server.total_requests == 2


# --- local backend ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_causal_lm(tmp_path_factory):
    """A random 2-layer Qwen3 with a byte-level BPE tokenizer trained on the judge templates (Qwen3,
    not Qwen2: transformers 5 swaps a tokenizer saved with a qwen2 config for Qwen2Tokenizer)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM

    texts = [load_template(name) for name in ("pairwise_zh", "pairwise_en", "score10_zh")] + [
        row["question"] + row["answer_1"] + row["answer_2"] for row in PAIRS]
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    backend.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=600, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tok.chat_template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
                         "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    torch.manual_seed(0)
    model = Qwen3ForCausalLM(Qwen3Config(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, head_dim=16, max_position_embeddings=2048, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id, tie_word_embeddings=True))
    path = tmp_path_factory.mktemp("judge_model")
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.mark.slow  # about 40 s: two actors each import torch and load the model
def test_local_backend_on_actor_pool(tmp_path, ray_local, tiny_causal_lm):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = tmp_path / "pairs.jsonl"
    pd.DataFrame(PAIRS).to_json(path, orient="records", lines=True, force_ascii=False)
    out = tmp_path / "out"
    code = main(["--config", "configs/judge/tiny_local.yaml", f"input={path}", f"output_dir={out}",
                 f"local.model_path={tiny_causal_lm}"])

    df, summary = read_outputs(out)
    assert code == 0
    assert df["id"].tolist() == [p["id"] for p in PAIRS]  # rows in = rows out, in order
    assert df["error"].isna().all()
    assert df["raw_ab"].map(lambda t: isinstance(t, str)).all() and df["raw_ba"].map(lambda t: isinstance(t, str)).all()
    # A random model's text is rarely a verdict: failures are flagged and counted, never a verdict.
    unread = ~df["parse_ok_ab"]
    assert unread.sum() >= 1
    assert df.loc[unread, "verdict_ab"].isna().all() and df.loc[unread, "final"].isna().all()
    assert summary["judgements_answered"] == 14
    assert summary["judgements_parse_failed"] == int((~df["parse_ok_ab"]).sum() + (~df["parse_ok_ba"]).sum())
    assert summary["parse_failure_rate"] == pytest.approx(summary["judgements_parse_failed"] / 14)

    # The actors decoded greedily through the chat template: the same text as a direct generate().
    tok = AutoTokenizer.from_pretrained(tiny_causal_lm)
    assert type(tok.backend_tokenizer.pre_tokenizer).__name__ == "ByteLevel"  # the one built above, not Qwen's
    model = AutoModelForCausalLM.from_pretrained(tiny_causal_lm).eval()
    for i in (0, 3):
        prompt_ab, prompt_ba = pair_prompts(PAIRS[i])
        for prompt, column in ((prompt_ab, "raw_ab"), (prompt_ba, "raw_ba")):
            text = tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                           add_generation_prompt=True)
            ids = tok(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
            with torch.inference_mode():
                generated = model.generate(ids, max_new_tokens=8, do_sample=False, pad_token_id=tok.pad_token_id)
            new_tokens = generated[0, ids.shape[1]:].tolist()
            assert df[column][i] == tok.decode(new_tokens, skip_special_tokens=True)
            # An answer that used all 8 tokens without its end-of-turn was cut off: truncated, never read.
            cut = len(new_tokens) == 8 and tok.eos_token_id not in new_tokens
            assert (df[column.replace("raw", "parse_problem")][i] == "truncated") == cut
