"""An OpenAI-compatible chat-completions client for hosted (or self-served) judge models.

    spec = HttpJudgeSpec(base_url="https://api.example.com/v1", model="judge-1",
                         api_key_env="JUDGE_API_KEY", max_concurrency=8)
    client = HttpJudgeClient(spec)
    results = client.complete_many(prompts)      # sync; asyncio.run inside (fine in map_batches)
    results = await client.acomplete_many(prompts)   # from async code
    [r.text for r in results]                    # None where r.error says what went wrong

The client is aiohttp's: against a loopback endpoint that answers at once it sends about 14 times
the requests per CPU second that httpx does (benchmarks/README.md); at a million rows the client's
own CPU is what bounds a judging actor.

One row out per prompt, in input order. Hosted endpoints fail transiently (rate limits,
overloaded or restarting servers, dropped connections), and a run of thousands of prompts meets
all of these, so 429, 5xx, timeouts and connection errors are retried with exponential backoff
and full jitter, waiting what a Retry-After header asks (capped at backoff_max_s); other 4xx (a bad request, a
wrong key) are not retried. A prompt that never succeeds gives a row with `text=None` and
`error="..."`, never a missing row; a text the endpoint cut off at max_tokens comes back
with `finish_reason="length"` (the judge reads it as truncated, not as a verdict). At most
max_concurrency requests are in flight at once.
The API key is read from the environment variable named by api_key_env and never logged.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import random
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp

from rayscore.config import range_problems

__all__ = ["HttpJudgeSpec", "Completion", "HttpJudgeClient"]

logger = logging.getLogger(__name__)

_ERROR_BODY_CHARS = 200


@dataclass
class HttpJudgeSpec:
    """Where the judge model is served and how hard to try."""

    base_url: str = "http://127.0.0.1:8000/v1"
    """API root; requests go to <base_url>/chat/completions."""
    model: str = ""
    """Model name sent in each request."""
    api_key_env: str = ""
    """Name of the environment variable holding the API key ("" = send no key)."""
    timeout_s: float = 60.0
    """Per-request timeout: to connect, and between bytes of the response."""
    max_retries: int = 3
    """Retries after the first attempt, so at most max_retries + 1 attempts per prompt."""
    backoff_initial_s: float = 1.0
    """Upper bound of the first retry's random wait; doubles with each retry."""
    backoff_max_s: float = 30.0
    """Cap on any wait, including one asked for by Retry-After."""
    max_concurrency: int = 8
    """Requests in flight at once (per client, i.e. per Ray actor)."""
    temperature: float = 0.0
    """Sampling temperature; 0 for reproducible judging."""
    max_tokens: int = 1024
    """Longest judge output, in tokens."""
    system_prompt: str = ""
    """Optional system message sent before each prompt."""

    def check(self) -> list[str]:
        """Value rules. `model` is not required here: a job whose backend is not HTTP carries an
        unused spec; the job's own check and HttpJudgeClient require it (see require_model)."""
        problems = []
        if not self.base_url.startswith(("http://", "https://")):
            problems.append(f"base_url: must start with http:// or https://, got {self.base_url!r}")
        problems += range_problems(
            self,
            timeout_s="> 0",
            max_retries=">= 0",
            backoff_initial_s=">= 0",
            backoff_max_s=">= 0",
            max_concurrency=">= 1",
            max_tokens=">= 1",
        )
        return problems

    def require_model(self) -> list[str]:
        """The check for a spec that will be used: every value rule, and a model name."""
        problems = self.check()
        if not self.model:
            problems.append("model: required (the model name the endpoint serves)")
        return problems


@dataclass(frozen=True)
class Completion:
    """One prompt's outcome: the text, or None and the error after `attempts` tries."""

    text: str | None
    error: str | None
    attempts: int
    latency_s: float
    """Wall time from the first attempt to the outcome, waits between retries included."""
    status: int | None = None
    """HTTP status of the last response (None when the last attempt got no response)."""
    finish_reason: str | None = None
    """The endpoint's choices[0].finish_reason: "stop", or "length" when max_tokens cut the text off."""


@dataclass(frozen=True)
class _Attempt:
    text: str | None = None
    error: str | None = None
    retryable: bool = False
    retry_after_s: float | None = None
    status: int | None = None
    finish_reason: str | None = None


class HttpJudgeClient:
    """Chat completions for many prompts with bounded concurrency and retries (see module doc)."""

    def __init__(self, spec: HttpJudgeSpec, seed: int | None = None):
        problems = spec.require_model()
        if problems:
            raise ValueError("invalid HttpJudgeSpec:\n  " + "\n  ".join(problems))
        self.spec = spec
        self._url = spec.base_url.rstrip("/") + "/chat/completions"
        self._rng = random.Random(seed)
        self._api_key()  # fail at construction, not mid-job, when the key is missing

    def __repr__(self) -> str:
        return f"HttpJudgeClient(url={self._url!r}, model={self.spec.model!r})"

    def complete_many(self, prompts: list[str]) -> list[Completion]:
        """Blocking version of acomplete_many, for plain code and Ray Data map_batches callables."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.acomplete_many(prompts))
        # Inside a running loop (an async Serve handler, a notebook) asyncio.run refuses to
        # start a second loop in this thread, so the batch gets its own thread and loop.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self.acomplete_many(prompts)).result()

    async def acomplete_many(self, prompts: list[str]) -> list[Completion]:
        """One Completion per prompt, in input order."""
        prompts = list(prompts)
        if not prompts:
            return []
        headers = {"Content-Type": "application/json"}
        key = self._api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        semaphore = asyncio.Semaphore(self.spec.max_concurrency)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.spec.timeout_s, sock_read=self.spec.timeout_s)
        async with aiohttp.ClientSession(headers=headers, timeout=timeout, proxy=_proxy_for(self._url),
                                         connector=aiohttp.TCPConnector(limit=self.spec.max_concurrency)) as session:
            results = await asyncio.gather(*(self._complete_one(session, semaphore, p) for p in prompts))
        self._log_summary(results)
        return list(results)

    async def _complete_one(self, session: aiohttp.ClientSession, semaphore: asyncio.Semaphore,
                            prompt: str) -> Completion:
        start = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            # The slot is held for the request only, not the backoff, so one throttled prompt
            # does not keep a slot idle while others could be sent.
            async with semaphore:
                outcome = await self._attempt(session, prompt)
            elapsed = time.monotonic() - start
            if outcome.text is not None:
                return Completion(outcome.text, None, attempts, elapsed, outcome.status, outcome.finish_reason)
            if not outcome.retryable:
                return Completion(None, outcome.error, attempts, elapsed, outcome.status)
            if attempts > self.spec.max_retries:
                logger.warning("judge request gave up after %d attempts: %s", attempts, outcome.error)
                return Completion(None, f"gave up after {attempts} attempts: {outcome.error}",
                                  attempts, elapsed, outcome.status)
            wait_s = self._backoff_s(attempts, outcome.retry_after_s)
            logger.debug("judge request failed (%s); retry %d/%d in %.2f s",
                         outcome.error, attempts, self.spec.max_retries, wait_s)
            await asyncio.sleep(wait_s)

    async def _attempt(self, session: aiohttp.ClientSession, prompt: str) -> _Attempt:
        try:
            data = json.dumps(self._payload(prompt), ensure_ascii=False).encode()
            async with session.post(self._url, data=data) as r:
                status, body, retry_after = r.status, await r.read(), r.headers.get("Retry-After")
        except TimeoutError as e:
            return _Attempt(error=f"timeout ({type(e).__name__})", retryable=True)
        except aiohttp.ClientError as e:
            return _Attempt(error=f"connection error ({type(e).__name__}: {e})", retryable=True)
        if status == 429 or status >= 500:
            return _Attempt(error=f"http {status}: {_snippet(body)}", retryable=True,
                            retry_after_s=_retry_after_s(retry_after), status=status)
        if status >= 400:
            return _Attempt(error=f"http {status}: {_snippet(body)}", status=status)
        return _read_content(status, body)

    def _payload(self, prompt: str) -> dict:
        messages = [{"role": "user", "content": prompt}]
        if self.spec.system_prompt:
            messages.insert(0, {"role": "system", "content": self.spec.system_prompt})
        return {"model": self.spec.model, "messages": messages,
                "temperature": self.spec.temperature, "max_tokens": self.spec.max_tokens}

    def _backoff_s(self, retry: int, retry_after_s: float | None) -> float:
        """Full jitter (uniform in [0, initial * 2^(retry-1)]) unless the server said when."""
        if retry_after_s is not None:
            return min(max(retry_after_s, 0.0), self.spec.backoff_max_s)
        ceiling = min(self.spec.backoff_max_s, self.spec.backoff_initial_s * 2 ** (retry - 1))
        return self._rng.uniform(0.0, ceiling)

    def _api_key(self) -> str | None:
        if not self.spec.api_key_env:
            return None
        key = os.environ.get(self.spec.api_key_env)
        if not key:
            raise ValueError(f"api_key_env: environment variable {self.spec.api_key_env} is not set "
                             f"(export it, or pass it to Ray workers through runtime_env env_vars)")
        return key

    @staticmethod
    def _log_summary(results: tuple[Completion, ...] | list[Completion]) -> None:
        errors = sum(r.error is not None for r in results)
        retries = sum(r.attempts - 1 for r in results)
        log = logger.warning if errors else logger.debug
        log("judge batch: %d prompts, %d errors, %d retries", len(results), errors, retries)


def _read_content(status: int, body: bytes) -> _Attempt:
    try:
        choice = json.loads(body)["choices"][0]
        content = choice["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return _Attempt(error=f"bad response: no choices[0].message.content in {_snippet(body)}",
                        status=status)
    if not isinstance(content, str):
        return _Attempt(error=f"bad response: content is {type(content).__name__}", status=status)
    reason = choice.get("finish_reason") if isinstance(choice, dict) else None
    return _Attempt(text=content, status=status, finish_reason=reason if isinstance(reason, str) else None)


def _proxy_for(url: str) -> str | None:
    """The environment's proxy for url (HTTP_PROXY / HTTPS_PROXY unless NO_PROXY names its host),
    looked up once per batch: aiohttp's trust_env looks it up and reads ~/.netrc on every request,
    which costs a judging actor four fifths of its CPU at loopback speed."""
    parts = urllib.parse.urlsplit(url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    return None if not proxy or urllib.request.proxy_bypass(parts.hostname or "") else proxy


def _retry_after_s(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _snippet(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip().replace("\n", " ")
    return text[:_ERROR_BODY_CHARS] + ("…" if len(text) > _ERROR_BODY_CHARS else "")
