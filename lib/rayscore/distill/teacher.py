"""A stand-in teacher: an OpenAI-compatible chat-completions server on 127.0.0.1 that grades a
text's educational value 0-5 with a rubric the student never sees, or says which of two responses
is better by the same rubric.

    with RubricTeacher() as teacher:          # a free port, served from a daemon thread
        judge_cfg.http.base_url = teacher.base_url      # what the judge job calls
        ...
        teacher.calls                         # requests answered (what a real endpoint bills)

It stands in for a real teacher, an LLM behind any OpenAI-compatible endpoint (vLLM's
`vllm serve`, a hosted model): the distill job only knows `judge.http.base_url` and
`judge.http.model`, so pointing those at a real server is the one change, and the judge prompt
(configs/judge/templates/edu_value_en.txt) is what a real model reads. This one reads the text
between the prompt's [Text] and [End of text] lines and answers "Educational score: N", where N
is the hidden rubric:

    +2 the text is about a school concept (science, maths, history, ...)
    +1 it explains (because / which means / the reason)
    +1 it gives an example (for example / for instance)
    +1 it addresses learners (students / lesson / learn / quiz / exercise)
    -2 it sells something (buy / discount / order / subscribe / win a free)
    clipped to 0..5

A pairwise prompt (configs/judge/templates/pairwise_en.txt: "### Response 1:" and "### Response 2:"
blocks) is answered "1", "2" (the response with the higher grade) and a "Reason:" line. Two equal
grades get "1": the teacher then prefers the response shown first, the position bias real LLM
judges show, which judging each pair in both orders exposes (the distill job sets such pairs aside).

The rubric's features are words and phrases a small encoder can learn from a few hundred graded
texts (corpus.py draws them independently), which is what a distilled student must do.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rayscore.distill.corpus import CONCEPTS

_TEXT = re.compile(r"\[Text\]\n(.*?)\n\[End of text\]", re.DOTALL)
_PAIR = re.compile(r"### Response 1:\n(.*?)\n\n### Response 2:\n(.*?)\n\n###", re.DOTALL)
_EXPLAINS = re.compile(r"\bbecause\b|\bwhich means\b|\bthe reason\b", re.IGNORECASE)
_EXAMPLE = re.compile(r"\bfor (?:example|instance)\b", re.IGNORECASE)
_LEARNERS = re.compile(r"\b(?:students?|lesson|learn(?:ed)?|quiz|exercise|teachers?)\b", re.IGNORECASE)
_SELLS = re.compile(r"\b(?:buy|discount|order today|subscribe|win a free)\b", re.IGNORECASE)


def grade(text: str) -> int:
    """The hidden rubric (module docstring): 0-5."""
    lowered = text.lower()
    score = 2 if any(c.lower() in lowered for c in CONCEPTS) else 0
    score += bool(_EXPLAINS.search(text)) + bool(_EXAMPLE.search(text)) + bool(_LEARNERS.search(text))
    score -= 2 if _SELLS.search(text) else 0
    return max(0, min(5, score))


class RubricTeacher:
    """The server; `calls` counts the chat-completion requests it answered."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, model: str = "rubric-teacher"):
        self.model = model
        self.calls = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> RubricTeacher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> RubricTeacher:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def answer(self, prompt: str) -> str:
        found = _TEXT.search(prompt)
        if found is not None:
            return f"Educational score: {grade(found.group(1))}"
        pair = _PAIR.search(prompt)
        if pair is None:
            return "I can only grade a [Text] ... [End of text] block or compare ### Response 1 / 2."
        first, second = grade(pair.group(1)), grade(pair.group(2))
        return (f"{1 if first >= second else 2}\n"
                f"Reason: Response 1 scores {first} and Response 2 scores {second} on the rubric.")

    def _handler_class(self):
        teacher = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # one line per request would drown the job's log
                pass

            def do_POST(self):
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                try:
                    body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                    prompt = [m for m in body["messages"] if m.get("role") == "user"][-1]["content"]
                except (ValueError, KeyError, IndexError, TypeError):
                    return self._send(400, {"error": {"message": "expected an OpenAI chat-completions body"}})
                with teacher._lock:
                    teacher.calls += 1
                content = teacher.answer(prompt)
                self._send(200, {
                    "id": f"chatcmpl-{teacher.calls}", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", teacher.model),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": 4,
                              "total_tokens": len(prompt.split()) + 4},
                })

            def _send(self, status: int, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
