"""The Serve app for real: jobs.serve_scorer on the session Ray, HTTP on a free loopback port.

Three apps share one Serve instance: the quality scorer at /, and the reward and pair scorers (on
the same trained reward model) at /reward and /pair, the pair scorer behind bearer auth.
Three tests add their own: a generative scorer (a tiny causal LM taught known answers) at
/generative, a pairwise judge on a fake endpoint on loopback at /judge, and at /fault a scorer
whose replica is killed (kill -9) under load.
"""

import asyncio
import glob
import json
import math
import os
import secrets
import signal
import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml

from fake_judge_server import FakeJudgeServer
from rayscore.addresses.checks import ADDRESS_CHECKS
from rayscore.config import ConfigError
from rayscore.eval.operating_points import outcome
from rayscore.io import read_table
from rayscore.models import model_fingerprint

TOKEN_ENV = "RAYSCORE_TEST_SERVE_TOKEN"
TINY = "configs/serve_scorer/tiny.yaml"  # max_items_per_request=8, max_text_chars=200, max_body_bytes=4096
RECORD = "张三,北京市朝阳区望京街道123号院5号楼,邮编:100102,联系电话:13812345678"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(ray_local, quality_model_dir):
    """The tiny config served three times (/, /reward, /pair with a token); Serve shut down afterwards."""
    from ray import serve

    from jobs.serve_scorer import main

    port, token = free_port(), secrets.token_urlsafe(24)
    common = ["--config", TINY, f"scorer.model_dir={quality_model_dir}", f"port={port}", "block=false"]
    os.environ[TOKEN_ENV] = token  # read where the app is built, then handed to its replicas
    try:
        # A long batch wait makes concurrent requests share a batch reliably (checked below).
        assert main([*common, "app_name=open", "route_prefix=/", "auth_token_env=",
                     "batch_wait_timeout_s=0.25"]) == 0
        # The reward and pair scorers load the same trained reward model; the pair app wants a token.
        for kind, auth in (("reward", ""), ("pair", TOKEN_ENV)):
            assert main([*common, f"app_name={kind}", f"route_prefix=/{kind}", f"scorer.kind={kind}",
                         f"auth_token_env={auth}"]) == 0
    finally:
        del os.environ[TOKEN_ENV]
    base = f"http://127.0.0.1:{port}"
    yield {"url": base, "secure_url": base + "/pair", "token": token, "model_dir": quality_model_dir}
    serve.shutdown()


@pytest.fixture
def client(served):
    with httpx.Client(base_url=served["url"], timeout=60) as c:
        yield c


def test_score_happy_path(client, served):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["kind"] == "quality" and health["auth"] is False

    r = client.post("/v1/score", json={"items": [{"id": "a", "text": RECORD}, {"id": 7, "text": "李四,邮编:10010222"},
                                                 {"text": "王五"}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model_fingerprint"] == model_fingerprint(str(served["model_dir"])) == health["model_fingerprint"]
    assert body["kind"] == "quality"
    assert [s["id"] for s in body["scores"]] == ["a", 7, None]
    calibration = json.loads((served["model_dir"] / "calibration.json").read_text())
    for s in body["scores"]:
        assert set(s) == {"id", "reward_correct", "reward_wrong", "p_correct", "label", "decided_by", "check_flags"}
        margin = s["reward_correct"] - s["reward_wrong"]
        assert s["p_correct"] == pytest.approx(1 / (1 + math.exp(-margin / calibration["temperature"])), abs=1e-6)
        by_check = bool(set(s["check_flags"]) & ADDRESS_CHECKS.certain)
        assert s["decided_by"] == ("check" if by_check else "model")
        assert s["label"] == ("错误" if by_check else outcome([s["p_correct"]], calibration["operating_points"])[0])
    # Why a record is 错误: the checks that failed, as score_batch writes them.
    assert body["scores"][1]["check_flags"] == list(ADDRESS_CHECKS.run(["李四,邮编:10010222"])[0].flags)
    assert "postcode_format" in body["scores"][1]["check_flags"]


def test_openapi_docs(client):
    spec = client.get("/openapi.json").json()
    assert {"/v1/score", "/v1/score_pairs", "/v1/judge", "/healthz"} <= set(spec["paths"])
    assert "items" in spec["components"]["schemas"]["ScoreRequest"]["properties"]
    assert client.get("/docs").status_code == 200


def test_scores_equal_score_batch(served, tiny_records, tmp_path):
    """The same records through score_batch (Ray Data actors) and through HTTP give the same scores;
    concurrent requests are scored together in one batch."""
    from rayscore.score.job import ScoreJobConfig, run
    from rayscore.score.scorers import ScorerSpec

    records = read_table(tiny_records / "score").head(40)
    records.to_parquet(tmp_path / "in.parquet")
    cfg = ScoreJobConfig(input=str(tmp_path / "in.parquet"), output=str(tmp_path / "out"),
                         scorer=ScorerSpec(model_dir=str(served["model_dir"]), batch_size=64, max_seq_len=64),
                         rows_per_file=40, num_actors=1, cpus_per_actor=0.5, max_text_chars=200,
                         max_quarantine_share=1.0)
    assert run(cfg).data["rows_in"] == 40
    batch = pd.concat(pd.read_parquet(p) for p in glob.glob(str(tmp_path / "out" / "*.parquet")))
    assert len(batch) > 24
    texts = dict(zip(records["record_id"].astype(str), records["text"]))

    async def post_all() -> list[dict]:
        ids = batch["record_id"].tolist()
        async with httpx.AsyncClient(base_url=served["url"], timeout=60) as c:
            responses = await asyncio.gather(*(
                c.post("/v1/score", json={"items": [{"id": i, "text": texts[i]} for i in ids[k:k + 8]]})
                for k in range(0, len(ids), 8)))
        assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
        return [s for r in responses for s in r.json()["scores"]]

    served_scores = {s["id"]: s for s in asyncio.run(post_all())}
    assert set(served_scores) == set(batch["record_id"])
    for row in batch.itertuples():
        assert served_scores[row.record_id]["p_correct"] == pytest.approx(row.p_correct, abs=1e-5)
        assert served_scores[row.record_id]["label"] == row.label
        assert served_scores[row.record_id]["check_flags"] == list(row.check_flags)
    stats = httpx.get(served["url"] + "/healthz").json()["stats"]
    # Items of different requests (at most 8 each) went through the scorer together.
    assert stats["largest_batch"] > 8, stats


@pytest.mark.parametrize("body, status, message", [
    (b'{"items": [{"text": "a"}', 400, "body: malformed JSON"),
    (b'', 422, "body: Field required"),
    (b'[{"text": "a"}]', 422, "body: Input should be a valid dictionary"),
    (b'{}', 422, "items: Field required"),
    (b'{"items": "a"}', 422, "items: Input should be a valid list"),
    (b'{"items": []}', 422, "items: List should have at least 1 item"),
    (b'{"items": [{"id": 1}]}', 422, "items[0].text: required"),
    (b'{"items": [{"text": "a"}, {"text": 5}]}', 422, "items[1].text: Input should be a valid string"),
    (b'{"items": [{"txt": "a"}]}', 422, "items[0].txt: Extra inputs are not permitted"),
    (b'{"items": [{"text": "   "}]}', 422, "items[0].text: empty"),
    (b'{"items": [{"prompt": "q", "response": "a"}]}', 422,
     "items[0].prompt: not read by this app's 'quality' scorer"),
    (('{"items": [' + ", ".join(['{"text": "a"}'] * 9) + "]}").encode(), 422,
     "items: 9 items, more than max_items_per_request=8"),
    (('{"items": [{"text": "' + "好" * 201 + '"}]}').encode(), 422,
     "items[0].text: 201 characters, more than max_text_chars=200"),
    # Text with no UTF-8 form: a lone UTF-16 half, escaped or as raw (CESU-8) bytes, in any string field.
    (rb'{"items": [{"text": "ab\ud800cd"}]}', 422,
     "items[0].text: not valid UTF-8 text: lone surrogate U+D800 at character 3"),
    (rb'{"items": [{"text": "a"}, {"text": "\udfff"}]}', 422,
     "items[1].text: not valid UTF-8 text: lone surrogate U+DFFF"),
    (rb'{"items": [{"id": "x\ud83d", "text": "a"}]}', 422, "items[0].id: not valid UTF-8 text: lone surrogate U+D83D"),
    (b'{"items": [{"text": "ab\xed\xa0\x80cd"}]}', 422, "items[0].text: not valid UTF-8 text: lone surrogate U+D800"),
    (rb'{"items": [{"te\ud800xt": "a"}]}', 422, "items[0]: Input should be a valid string"),
    (b'{"items": [{"text": "ab\xffcd"}]}', 400, "body: not valid UTF-8 (invalid start byte at byte 23)"),
])
def test_bad_requests_name_the_field(client, body, status, message):
    r = client.post("/v1/score", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert r.json()["error"].startswith(message), r.json()


def test_body_over_the_limit_is_413(client):
    big = ('{"items": [{"text": "%s"}]}' % ("a" * 5000)).encode()
    r = client.post("/v1/score", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "max_body_bytes=4096" in r.json()["error"]
    # A chunked body has no Content-Length: the bytes received are counted instead.
    chunks = iter([big[:3000], big[3000:]])
    r = client.post("/v1/score", content=chunks, headers={"content-type": "application/json"})
    assert r.request.headers.get("transfer-encoding") == "chunked" and "content-length" not in r.request.headers
    assert r.status_code == 413 and "max_body_bytes=4096" in r.json()["error"]
    # Just under the limit still works.
    r = client.post("/v1/score", json={"items": [{"text": "a" * 150}] * 8})
    assert r.status_code == 200, r.text


def test_pairs_and_judge_are_501_without_their_scorer(client):
    r = client.post("/v1/score_pairs", json={"items": [{"prompt": "q", "chosen": "a", "rejected": "b"}]})
    assert r.status_code == 501 and "needs a 'pair' scorer" in r.json()["error"]
    r = client.post("/v1/score_pairs", json={"items": [{"prompt": "q", "chosen": "a"}]})
    assert r.status_code == 422 and r.json()["error"].startswith("items[0].rejected: Field required")
    r = client.post("/v1/judge", json={"items": [{"question": "q", "answer": "a"}]})
    assert r.status_code == 501 and "no judge is configured" in r.json()["error"]


def test_reward_and_pair_scorers(served):
    reward_url, pair_url = served["url"] + "/reward", served["url"] + "/pair"
    auth = {"Authorization": f"Bearer {served['token']}"}
    prompt, good, bad = "邮编是几位数?", "六位", "八位"
    r = httpx.post(reward_url + "/v1/score", timeout=60, json={"items": [
        {"id": "g", "prompt": prompt, "response": good}, {"id": "b", "prompt": prompt, "response": bad}]})
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "reward"
    rewards = {s["id"]: s["reward"] for s in r.json()["scores"]}
    # The session's model was trained with the address checks: every scorer kind reads them.
    assert set(r.json()["scores"][0]) == {"id", "reward", "check_flags"}
    temperature = json.loads((served["model_dir"] / "calibration.json").read_text())["temperature"]

    r = httpx.post(pair_url + "/v1/score_pairs", timeout=60, headers=auth, json={"items": [
        {"id": 1, "prompt": prompt, "chosen": good, "rejected": bad}, {"id": 2, "chosen": good, "rejected": bad}]})
    assert r.status_code == 200, r.text
    with_prompt, without_prompt = r.json()["scores"]
    # The pair scorer's two rewards are the reward scorer's, on the same conversations.
    assert with_prompt["reward_chosen"] == pytest.approx(rewards["g"], abs=1e-5)
    assert with_prompt["reward_rejected"] == pytest.approx(rewards["b"], abs=1e-5)
    for s in (with_prompt, without_prompt):
        assert s["margin"] == pytest.approx(s["reward_chosen"] - s["reward_rejected"], abs=1e-6)
        assert s["p_chosen"] == pytest.approx(1 / (1 + math.exp(-s["margin"] / temperature)), abs=1e-6)
        assert s["preferred"] == ("chosen" if s["margin"] > 0 else "rejected" if s["margin"] < 0 else "tie")
    assert without_prompt["reward_chosen"] != pytest.approx(with_prompt["reward_chosen"], abs=1e-6)

    # Items of another kind name the field the served scorer does not read.
    r = httpx.post(reward_url + "/v1/score", json={"items": [{"text": RECORD}]})
    assert r.status_code == 422
    assert r.json()["error"].startswith("items[0].text: not read by this app's 'reward' scorer")
    r = httpx.post(reward_url + "/v1/score", json={"items": [{"prompt": prompt}]})
    assert r.status_code == 422 and r.json()["error"].startswith("items[0].response: required")
    r = httpx.post(pair_url + "/v1/score", headers=auth, json={"items": [{"text": RECORD}]})
    assert r.status_code == 501
    assert "needs a 'quality', 'reward', 'classifier' or 'generative' scorer" in r.json()["error"]


def test_bearer_auth_and_the_token_stays_out_of_logs(served, ray_local):
    url, token = served["secure_url"], served["token"]
    wrong = secrets.token_urlsafe(24)
    item = {"items": [{"chosen": "六位", "rejected": "八位"}]}
    assert httpx.post(url + "/v1/score_pairs", json=item).status_code == 401
    r = httpx.post(url + "/v1/score_pairs", json=item, headers={"Authorization": f"Bearer {wrong}"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert token not in r.text and wrong not in r.text
    # Unauthenticated clients get 401 before their body is even parsed.
    assert httpx.post(url + "/v1/score_pairs", content=b"{not json").status_code == 401
    r = httpx.post(url + "/v1/score_pairs", json=item, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert r.status_code == 200 and len(r.json()["scores"]) == 1
    health = httpx.get(url + "/healthz").json()
    assert health["auth"] is True  # GETs (health, docs) stay open

    logs = Path(ray_local._private.worker._global_node.get_session_dir_path()) / "logs"
    files = [p for p in logs.rglob("*") if p.is_file()]
    assert any("serve" in p.parts for p in files), "no Serve logs found to check"
    for path in files:
        data = path.read_bytes()
        assert token.encode() not in data, f"token found in {path}"
        assert wrong.encode() not in data, f"rejected token found in {path}"


def test_build_app_reads_the_config_and_overrides():
    from rayscore.serve.app import build_app

    # Typed values as a serve config YAML gives them, strings as `serve run ... key=value` does.
    app = build_app({"config": TINY, "scorer.model_dir": "/models/m", "max_replicas": 3, "min_replicas": "1",
                     "scorer": {"threshold": 0.7}})
    api = app._bound_deployment
    assert api.name == "Api" and api.ray_actor_options["num_cpus"] == 0
    # The Api queues what every scorer replica can take (3 x max_ongoing_requests=32).
    assert api._deployment_config.max_ongoing_requests == 96
    cfg, scorer_app = api.init_args[:2]
    deployment = scorer_app._bound_deployment
    assert deployment.name == "Scorer" and deployment.init_args[0] == cfg
    assert deployment._deployment_config.autoscaling_config.max_replicas == 3
    assert deployment.ray_actor_options["num_cpus"] == 0.5
    assert cfg.scorer.model_dir == "/models/m" and cfg.scorer.threshold == 0.7 and cfg.max_batch_size == 16
    assert deployment._deployment_config.autoscaling_config.min_replicas == 1
    with pytest.raises(ConfigError, match="max_replicas"):
        build_app({"config": TINY, "max_replicas": 0})


def pairwise_verdict(prompt: str) -> str:
    """A judge that prefers GOOD answers, and always the first one when both are BIASED."""
    if "BIASED" in prompt:
        return "1\n理由：第一个回答更好。"
    first, second = prompt.split("### 回答2：")
    return "1\n理由：回答1更完整。" if "GOOD" in first else "2\n理由：回答2更完整。" if "GOOD" in second else "Tie"


def test_judge_endpoint_runs_the_judge_jobs_config(served, tmp_path):
    from jobs.judge import main as judge_job
    from jobs.serve_scorer import main

    items = [{"id": "good_first", "question": "邮编几位?", "answer_1": "GOOD 六位", "answer_2": "八位"},
             {"id": "good_second", "question": "电话几位?", "answer_1": "十位", "answer_2": "GOOD 十一位"},
             {"id": "biased", "question": "哪个?", "answer_1": "BIASED 甲", "answer_2": "BIASED 乙"}]
    with FakeJudgeServer() as fake:
        fake.responder = pairwise_verdict
        judge_yaml = tmp_path / "judge.yaml"
        judge_yaml.write_text(yaml.safe_dump({
            **yaml.safe_load(Path("configs/judge/tiny.yaml").read_text()), "mode": "pairwise",
            "template": "pairwise_zh", "score_range": None, "policy": "tie",
            "http": {"base_url": fake.base_url, "model": "fake-judge", "max_retries": 0}}))
        port = int(served["url"].rsplit(":", 1)[1])
        assert main(["--config", TINY, f"scorer.model_dir={served['model_dir']}", f"port={port}", "block=false",
                     "app_name=judge", "route_prefix=/judge", "auth_token_env=", f"judge_config={judge_yaml}"]) == 0
        url = served["url"] + "/judge/v1/judge"
        r = httpx.post(url, timeout=60, json={"items": items})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["mode"] == "pairwise" and body["template"] == "pairwise_zh"
        got = {j["id"]: j for j in body["judgements"]}
        assert [j["id"] for j in body["judgements"]] == [i["id"] for i in items]
        # Both orders were asked; the second is read back in A-B terms; the biased pair is a tie.
        assert (got["good_first"]["verdict_ab"], got["good_first"]["verdict_ba"]) == (1, 2)
        assert (got["good_second"]["verdict_ab"], got["good_second"]["verdict_ba"]) == (2, 1)
        assert [got[k]["final"] for k in ("good_first", "good_second", "biased")] == [1, 2, 0]
        assert [got[k]["consistent"] for k in ("good_first", "good_second", "biased")] == [True, True, False]
        assert got["biased"]["reason"] == "inconsistent" and got["good_first"]["error"] is None
        assert got["good_first"]["explanation_ab"] == "回答1更完整。"
        assert len(fake.bodies) == 2 * len(items)

        # The judge job on the same items and config gives the same judgements.
        table = tmp_path / "pairs.parquet"
        pd.DataFrame(items).to_parquet(table)
        assert judge_job(["--config", str(judge_yaml), f"input={table}", f"output_dir={tmp_path / 'job'}",
                          "question_column=question", "answer_1_column=answer_1", "answer_2_column=answer_2"]) == 0
        job = read_table(tmp_path / "job" / "part-*.parquet").set_index("id").loc[[i["id"] for i in items]]
        for key in ("verdict_ab", "verdict_ba", "verdict_ba_corrected", "final", "consistent", "reason",
                    "judge_fingerprint"):
            assert [None if pd.isna(v) else v for v in job[key]] == [got[i["id"]][key] for i in items], key

        # Items are checked against what the configured judge reads.
        sent = len(fake.bodies)
        r = httpx.post(url, json={"items": [{"question": "q", "answer_1": "a"}]})
        assert r.status_code == 422 and r.json()["error"].startswith("items[0].answer_2: required"), r.text
        r = httpx.post(url, json={"items": [{"question": "q", "answer": "a"}]})
        assert r.status_code == 422 and r.json()["error"].startswith(
            "items[0].answer: not read by this app's pairwise judge"), r.text
        r = httpx.post(url, json={"items": [{"question": "q", "answer_1": "a", "answer_2": "  "}]})
        assert r.status_code == 422 and r.json()["error"].startswith("items[0].answer_2: empty"), r.text
        assert len(fake.bodies) == sent  # a rejected request reaches no judge
    # The judge endpoint down: every item comes back with its error, none with a verdict.
    r = httpx.post(url, timeout=60, json={"items": items[:1]})
    assert r.status_code == 200 and r.json()["judgements"][0]["final"] is None
    assert r.json()["judgements"][0]["error"], r.text


def test_judge_config_is_checked_where_the_app_is_built(tmp_path):
    from rayscore.serve.app import build_app

    bad = tmp_path / "judge.yaml"
    bad.write_text("mode: pairwise\ntemplate: score10_zh\nhttp: {model: m}\n")
    with pytest.raises(ConfigError, match=r"(?s)judge_config .*judge.yaml.*template .*no \{answer_1\} placeholder"):
        build_app({"config": TINY, "judge_config": str(bad)})


def test_generative_scorer_served_with_null_for_unparseable_answers(served, tmp_path):
    from test_score_scorers import ANSWERS, train_answers

    from jobs.serve_scorer import main
    from rayscore.score.scorers import ScorerSpec, build_scorer
    from tiny_models import char_tokenizer, save_tiny, tiny_causal_lm

    tok = char_tokenizer(list(ANSWERS) + list(ANSWERS.values()))
    lm, loss = train_answers(tiny_causal_lm(tok, hidden=64, seed=2), tok, ANSWERS)
    assert loss < 0.02, f"the tiny LM did not learn its answers (loss {loss})"
    save_tiny(lm, tok, tmp_path / "lm")
    port = int(served["url"].rsplit(":", 1)[1])
    assert main(["--config", TINY, f"scorer.model_dir={tmp_path / 'lm'}", "scorer.kind=generative",
                 "scorer.greedy=true", f"port={port}", "block=false", "app_name=generative",
                 "route_prefix=/generative", "auth_token_env="]) == 0
    prompts = list(ANSWERS)
    r = httpx.post(served["url"] + "/generative/v1/score", timeout=60,
                   json={"items": [{"id": i, "prompt": p} for i, p in enumerate(prompts)]})
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "generative"
    scores = r.json()["scores"]
    assert [s["answer"] for s in scores] == list(ANSWERS.values())
    # "无法评价" parses to no score: null in JSON, never 0 or NaN.
    assert [s["greedy_score"] for s in scores] == [9.7, 3.0, 10.0, None]
    assert [s["parse_ok"] for s in scores] == [True, True, True, False]
    direct = build_scorer(ScorerSpec(kind="generative", model_dir=str(tmp_path / "lm"), greedy=True)).score(
        pd.DataFrame({"prompt": prompts}))
    assert [s["expected_score"] for s in scores] == pytest.approx(direct["expected_score"].tolist(), abs=1e-5)
    r = httpx.post(served["url"] + "/generative/v1/score", json={"items": [{"prompt": "q", "response": "a"}]})
    assert r.status_code == 422 and r.json()["error"].startswith(
        "items[0].response: not read by this app's 'generative' scorer"), r.text


def replica_pid(app_name: str) -> int:
    """The pid of the app's one Scorer replica, found by its actor name in Serve's namespace."""
    import ray

    names = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
             if a["name"].startswith(f"SERVE_REPLICA::{app_name}#Scorer#")]
    assert len(names) == 1, names
    return ray.get(ray.get_actor(names[0], namespace="serve").__ray_call__.remote(lambda _: os.getpid()))


def test_killed_replica_fails_in_flight_requests_with_json_503(served):
    """kill -9 of the scorer replica under load: its in-flight requests get a JSON 503 with
    Retry-After, every other request succeeds (those that arrive meanwhile wait for the new replica).
    The kill lands while a long request is known to be on the replica (its /healthz counts the
    request's items), so there is always something in flight to fail, however the machine is loaded."""
    from ray import serve

    from jobs.serve_scorer import main

    port = int(served["url"].rsplit(":", 1)[1])
    long_items = 2000  # in batches of 2: hundreds of forward passes, seconds on the replica
    assert main(["--config", TINY, f"scorer.model_dir={served['model_dir']}", f"port={port}", "block=false",
                 "app_name=fault", "route_prefix=/fault", "auth_token_env=", "retry_after_s=3",
                 "max_batch_size=2", f"max_items_per_request={long_items}", "max_body_bytes=1000000"]) == 0
    base = served["url"] + "/fault"
    victim = replica_pid("fault")
    lock, answered, killed = threading.Lock(), [0], threading.Event()
    long_result: list[httpx.Response] = []

    def items_seen() -> int:
        return httpx.get(base + "/healthz", timeout=30).json()["stats"]["items"]

    def kill_during_long_request() -> None:
        before = items_seen()
        sender = threading.Thread(target=lambda: long_result.append(httpx.post(
            base + "/v1/score", timeout=120,
            json={"items": [{"id": i, "text": f"{RECORD[:20]}{i}号"} for i in range(long_items)]})))
        sender.start()
        deadline = time.monotonic() + 60
        while items_seen() < before + long_items:  # not yet on the replica
            assert time.monotonic() < deadline, "the long request never reached the replica"
            time.sleep(0.02)
        os.kill(victim, signal.SIGKILL)
        killed.set()
        sender.join()

    def post(i: int) -> tuple[int, bool, str | None, str]:
        with httpx.Client(timeout=120) as c:  # one connection per request, as independent clients
            r = c.post(base + "/v1/score", json={"items": [{"id": i, "text": f"{RECORD[:20]}{i}号"}]})
        try:
            r.json()
            is_json = True
        except ValueError:
            is_json = False
        with lock:
            answered[0] += 1
            if answered[0] == 40:  # mid-stream, with the other 7 clients' requests in flight
                threading.Thread(target=kill_during_long_request, daemon=True).start()
        return r.status_code, is_json, r.headers.get("retry-after"), r.text

    with ThreadPoolExecutor(8) as pool:  # 8 requests in flight at any time, 300 in all
        results = list(pool.map(post, range(300)))
    assert killed.wait(120)
    deadline = time.monotonic() + 120
    while not long_result and time.monotonic() < deadline:
        time.sleep(0.1)
    (long,) = long_result
    outcomes = Counter((status, is_json) for status, is_json, _, _ in results)
    assert sum(n for (_, is_json), n in outcomes.items() if not is_json) == 0, outcomes
    failures = [(long.status_code, long.headers.get("retry-after"), long.text)]
    failures += [(status, retry, text) for status, _, retry, text in results if status != 200]
    for status, retry, text in failures:
        assert status == 503 and retry == "3", (status, retry, text)
        assert json.loads(text)["error"].startswith("scorer: the scorer replica answering this request stopped")
    # Only requests in flight when it died (or sent before Serve saw it die) fail, not the stream after.
    assert outcomes[(200, True)] == 300 - len(failures) + 1 and len(failures) <= 16, outcomes
    # Replaced: a new process answers, and so does every request after.
    assert replica_pid("fault") != victim
    for _ in range(3):
        r = httpx.post(base + "/v1/score", timeout=60, json={"items": [{"text": RECORD}]})
        assert r.status_code == 200 and len(r.json()["scores"]) == 1, r.text
    serve.delete("fault")
