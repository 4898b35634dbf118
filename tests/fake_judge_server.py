"""A deterministic OpenAI-compatible chat-completions server on 127.0.0.1, for client tests.

    with FakeJudgeServer() as server:             # a free port, served from a daemon thread
        server.fail_first("p3", status=429, times=2, retry_after="0")
        server.delay("slow", seconds=1.0)
        server.answers["p1"] = "总分:36分"
        server.truncated.add("p1")                   # answered with finish_reason "length"
        server.responder = lambda prompt: "1" if "GOOD" in prompt else "2"   # for the other prompts
        server.go_down(status=503)                   # every request fails until server.come_back()
        server.down_between(10, 30)                  # requests number 10..29 (from the start) fail
        server.latency_s = 0.05                      # a fixed wait before every answer
        client = HttpJudgeClient(HttpJudgeSpec(base_url=server.base_url, model="fake"))
        ...
        server.requests_for("p3"), server.max_in_flight

It answers POST /v1/chat/completions with `answers[prompt]`, else `responder(prompt)` when a
responder is set, else `echo: <prompt>`, where the prompt is the last user message. Failures and
delays are keyed by the exact prompt. Every request is counted per prompt (requests_for,
counts), failed ones included, so a test can tell how often the endpoint was paid for a prompt.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # socketserver's default backlog of 5 resets connections past 5 at once


class FakeJudgeServer:
    def __init__(self) -> None:
        self.answers: dict[str, str] = {}
        self.responder: Callable[[str], str] | None = None
        self.headers_seen: list[dict[str, str]] = []
        self.bodies: list[dict] = []
        self.max_in_flight = 0
        self.truncated: set[str] = set()
        self.latency_s = 0.0
        self._down_status: int | None = None
        self._down_window: tuple[int, int, int] | None = None
        self._seen = 0
        self._failures: dict[str, list[tuple[int, str | None]]] = defaultdict(list)
        self._delays: dict[str, float] = {}
        self._counts: Counter = Counter()
        self._in_flight = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        # A short poll interval: shutdown() waits for one poll, 0.5 s by default, in every test.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    # --- control -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def fail_first(self, prompt: str, status: int, times: int, retry_after: str | None = None) -> None:
        """Answer `status` (with an optional Retry-After header) to the next `times` requests of `prompt`."""
        self._failures[prompt].extend([(status, retry_after)] * times)

    def delay(self, prompt: str, seconds: float) -> None:
        """Wait `seconds` before answering `prompt` (every time)."""
        self._delays[prompt] = seconds

    def go_down(self, status: int = 503) -> None:
        """Answer every request with `status` until come_back() (an endpoint that is down)."""
        self._down_status = status

    def come_back(self) -> None:
        self._down_status = None

    def down_between(self, first: int, last: int, status: int = 503) -> None:
        """Down for a while: the requests numbered first..last-1 (0 = the first this server got) fail."""
        self._down_window = (first, last, status)

    def requests_for(self, prompt: str) -> int:
        return self._counts[prompt]

    def counts(self) -> Counter:
        """Requests received per prompt (a copy)."""
        with self._lock:
            return Counter(self._counts)

    @property
    def total_requests(self) -> int:
        return sum(self._counts.values())

    def start(self) -> FakeJudgeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers still sleeping in a delay
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeJudgeServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- serving -----------------------------------------------------------------------------

    def _respond(self, body: dict, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        prompt = next((m["content"] for m in reversed(body.get("messages", [])) if m.get("role") == "user"), "")
        with self._lock:
            self._counts[prompt] += 1
            self.headers_seen.append(headers)
            self.bodies.append(body)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            failure = self._failures[prompt].pop(0) if self._failures.get(prompt) else None
            if self._down_status is not None:
                failure = (self._down_status, None)
            if self._down_window and self._down_window[0] <= self._seen < self._down_window[1]:
                failure = (self._down_window[2], None)
            self._seen += 1
        try:
            if self.latency_s:
                self._stopping.wait(self.latency_s)
            if prompt in self._delays:
                self._stopping.wait(self._delays[prompt])
            if failure is not None:
                status, retry_after = failure
                extra = {"Retry-After": retry_after} if retry_after is not None else {}
                return status, extra, json.dumps({"error": {"message": f"fake {status}"}}).encode()
            text = self._answer(prompt)
            reply = {"id": "fake", "object": "chat.completion", "model": body.get("model"),
                     "choices": [{"index": 0, "finish_reason": "length" if prompt in self.truncated else "stop",
                                  "message": {"role": "assistant", "content": text}}]}
            return 200, {}, json.dumps(reply, ensure_ascii=False).encode()
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer(self, prompt: str) -> str:
        if prompt in self.answers:
            return self.answers[prompt]
        if self.responder is not None:
            return self.responder(prompt)
        return f"echo: {prompt}"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                if not self.path.endswith("/chat/completions"):
                    self._send(404, {}, b'{"error": "not found"}')
                    return
                length = int(self.headers.get("Content-Length", 0))
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    self._send(400, {}, b'{"error": "bad json"}')
                    return
                self._send(*server._respond(body, {k.lower(): v for k, v in self.headers.items()}))

            def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left; nothing to tell it

            def log_message(self, format: str, *args) -> None:  # keep test output clean
                pass

        return Handler
