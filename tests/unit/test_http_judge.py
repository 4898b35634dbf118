"""The HTTP judge client against a fake OpenAI-compatible server on loopback."""

import asyncio
import logging
import socket
import time

import pytest

from fake_judge_server import FakeJudgeServer
from rayscore.config import ConfigError, load_config
from rayscore.judge.http_client import HttpJudgeClient, HttpJudgeSpec


@pytest.fixture
def server():
    with FakeJudgeServer() as fake:
        yield fake


def make_client(server, **overrides) -> HttpJudgeClient:
    fields = dict(base_url=server.base_url, model="fake-judge", timeout_s=2.0, max_retries=3,
                  backoff_initial_s=0.01, backoff_max_s=0.05, max_concurrency=4)
    return HttpJudgeClient(HttpJudgeSpec(**{**fields, **overrides}), seed=0)


def test_success_in_order_with_key_and_payload(server, monkeypatch, caplog):
    monkeypatch.setenv("FAKE_JUDGE_KEY", "sk-secret-123")
    server.answers["p2"] = "总分:36分"
    client = make_client(server, api_key_env="FAKE_JUDGE_KEY", temperature=0.3, max_tokens=64,
                         system_prompt="你是评审")
    prompts = [f"p{i}" for i in range(6)]
    with caplog.at_level(logging.DEBUG, logger="rayscore"):
        results = client.complete_many(prompts)
    assert [r.text for r in results] == ["echo: p0", "echo: p1", "总分:36分", "echo: p3", "echo: p4", "echo: p5"]
    assert all(r.error is None and r.attempts == 1 and r.status == 200 and r.latency_s > 0 for r in results)
    assert server.total_requests == 6
    assert {h["authorization"] for h in server.headers_seen} == {"Bearer sk-secret-123"}
    body = server.bodies[0]
    assert body["model"] == "fake-judge" and body["temperature"] == 0.3 and body["max_tokens"] == 64
    assert body["messages"][0] == {"role": "system", "content": "你是评审"}
    assert body["messages"][1]["role"] == "user"
    assert "sk-secret-123" not in repr(client) and "sk-secret-123" not in caplog.text


def test_429_then_success_counts_attempts(server):
    server.fail_first("p1", status=429, times=2, retry_after="0")
    results = make_client(server).complete_many(["p0", "p1", "p2"])
    assert [r.text for r in results] == ["echo: p0", "echo: p1", "echo: p2"]
    assert [r.attempts for r in results] == [1, 3, 1]
    assert server.requests_for("p1") == 3 and server.requests_for("p0") == 1


def test_503_then_success_without_retry_after_uses_backoff(server):
    server.fail_first("p", status=503, times=1)
    (result,) = make_client(server).complete_many(["p"])
    assert result.text == "echo: p" and result.attempts == 2


def test_500_until_exhausted_gives_an_error_row(server):
    server.fail_first("bad", status=500, times=100)
    results = make_client(server, max_retries=2).complete_many(["ok1", "bad", "ok2"])
    assert [r.text for r in results] == ["echo: ok1", None, "echo: ok2"]
    bad = results[1]
    assert bad.error.startswith("gave up after 3 attempts: http 500")
    assert bad.attempts == 3 and bad.status == 500
    assert server.requests_for("bad") == 3


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_client_errors_are_not_retried(server, status):
    server.fail_first("x", status=status, times=5)
    (result,) = make_client(server).complete_many(["x"])
    assert result.text is None and result.attempts == 1
    assert result.error.startswith(f"http {status}:") and "fake" in result.error
    assert server.requests_for("x") == 1


def test_timeout_gives_an_error_row_after_retries(server):
    server.delay("slow", 1.0)
    start = time.monotonic()
    results = make_client(server, timeout_s=0.2, max_retries=1).complete_many(["slow", "fast"])
    assert time.monotonic() - start < 1.0  # two 0.2 s attempts, not the server's 1 s
    slow, fast = results
    assert slow.text is None and slow.attempts == 2 and "timeout" in slow.error
    assert slow.error.startswith("gave up after 2 attempts") and slow.status is None
    assert fast.text == "echo: fast"
    assert server.requests_for("slow") == 2


def test_connection_refused_is_retried_then_reported():
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    spec = HttpJudgeSpec(base_url=f"http://127.0.0.1:{port}/v1", model="m", max_retries=2,
                         backoff_initial_s=0.01, backoff_max_s=0.02, timeout_s=1.0)
    (result,) = HttpJudgeClient(spec).complete_many(["p"])
    assert result.text is None and result.attempts == 3
    assert "connection error (ClientConnectorError" in result.error


def test_proxy_comes_from_the_environment_unless_no_proxy_names_the_host(server, monkeypatch):
    """HTTP_PROXY is honoured (the fake server stands in as the proxy: it gets the absolute URL of
    a host that does not resolve), and NO_PROXY sends a host's requests direct."""
    proxy = server.base_url.rsplit("/v1", 1)[0]
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    (result,) = make_client(server, base_url="http://judge.invalid/v1", max_retries=0).complete_many(["p"])
    assert result.text == "echo: p" and server.total_requests == 1
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    (result,) = make_client(server, max_retries=0).complete_many(["q"])
    assert result.text == "echo: q" and server.total_requests == 2


def test_retry_after_is_respected_and_capped(server):
    server.fail_first("wait", status=429, times=1, retry_after="0.3")
    server.fail_first("capped", status=429, times=1, retry_after="100")
    wait, capped = make_client(server, backoff_max_s=0.5).complete_many(["wait", "capped"])
    assert wait.text and wait.latency_s >= 0.3
    assert capped.text and 0.5 <= capped.latency_s < 2.0


def test_concurrency_is_bounded(server):
    prompts = [f"q{i}" for i in range(9)]
    for p in prompts:
        server.delay(p, 0.1)
    start = time.monotonic()
    results = make_client(server, max_concurrency=3).complete_many(prompts)
    elapsed = time.monotonic() - start
    assert all(r.text == f"echo: {p}" for r, p in zip(results, prompts))
    assert server.max_in_flight == 3
    assert elapsed >= 0.3  # 9 requests, 3 at a time, 0.1 s each


def test_order_is_input_order_not_completion_order(server):
    prompts = ["slowest", "slow", "quick"]
    for p, d in zip(prompts, (0.3, 0.15, 0.0)):
        server.delay(p, d)
    results = make_client(server).complete_many(prompts)
    assert [r.text for r in results] == ["echo: slowest", "echo: slow", "echo: quick"]


def test_sync_wrapper_works_inside_a_running_event_loop(server):
    client = make_client(server)

    async def from_async_code():
        return client.complete_many(["a", "b"]), await client.acomplete_many(["c"])

    sync_results, async_results = asyncio.run(from_async_code())
    assert [r.text for r in sync_results + async_results] == ["echo: a", "echo: b", "echo: c"]


def test_empty_batch_makes_no_requests(server):
    assert make_client(server).complete_many([]) == []
    assert server.total_requests == 0


def test_backoff_is_full_jitter_capped():
    client = HttpJudgeClient(HttpJudgeSpec(model="m", backoff_initial_s=1.0, backoff_max_s=5.0), seed=1)
    for retry, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (10, 5.0)]:
        waits = [client._backoff_s(retry, None) for _ in range(200)]
        assert 0 <= min(waits) and max(waits) <= ceiling
        assert max(waits) > 0.8 * ceiling and min(waits) < 0.2 * ceiling  # spread over [0, ceiling]
    assert client._backoff_s(1, 3.0) == 3.0 and client._backoff_s(1, 60.0) == 5.0


def test_missing_api_key_env_fails_at_construction(monkeypatch):
    monkeypatch.delenv("NO_SUCH_JUDGE_KEY", raising=False)
    with pytest.raises(ValueError, match="NO_SUCH_JUDGE_KEY is not set"):
        HttpJudgeClient(HttpJudgeSpec(model="m", api_key_env="NO_SUCH_JUDGE_KEY"))


def test_spec_loads_through_the_config_system():
    spec = load_config(HttpJudgeSpec, ["model=judge-1", "max_concurrency=16", "timeout_s=5"])
    assert (spec.model, spec.max_concurrency, spec.timeout_s) == ("judge-1", 16, 5.0)
    with pytest.raises(ConfigError) as err:
        load_config(HttpJudgeSpec, ["max_retries=-1", "base_url=localhost:8000"])
    text = str(err.value)
    assert "max_retries" in text and "base_url" in text
    # A job that does not use its HTTP spec (backend=local) may leave the model empty; a client may not.
    assert load_config(HttpJudgeSpec, []).model == ""
    with pytest.raises(ValueError, match="model: required"):
        HttpJudgeClient(HttpJudgeSpec())
