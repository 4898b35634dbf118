"""The HTTP surface of the scorer app: request and response schemas, the request guard (bearer
token, body size), and error replies that name the offending field.

    api = build_api(service, cfg, token)   # a FastAPI app; Serve builds one per replica

Routes: POST /v1/score, POST /v1/score_pairs, POST /v1/judge, GET /healthz, and FastAPI's
/docs and /openapi.json. Every error is JSON `{"error": "<field>: <what is wrong>"}` (422
validation errors also list each problem under "errors"):
  400 malformed JSON or a body that is not UTF-8 · 401 missing or wrong bearer token ·
  413 body over max_body_bytes · 422 missing field, wrong type, unknown field, too many items,
  text too long or empty, text with a lone surrogate (no UTF-8 form) ·
  500 an unexpected failure (logged here, not described) ·
  501 an endpoint whose scorer kind this app does not serve, or /v1/judge on an app without a judge ·
  503 with Retry-After: the scorer replica answering died mid-request, or the scorer deployment is
      unavailable (it failed to deploy); retry. Requests that arrive while a replica is replaced wait.
The token is compared in constant time and never logged, echoed or put in an error.
"""

from __future__ import annotations

import hmac
import logging
import re
from typing import Any, Protocol

import pyarrow as pa
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rayscore.score.scorers import KIND_FIELDS
from rayscore.score.validate import validate_texts
from rayscore.serve.config import ENDPOINT_KINDS, ServeJobConfig

logger = logging.getLogger(__name__)

_TEXT_PROBLEMS = {
    "null_text": "required",
    "empty_text": "empty or only whitespace",
    "non_string_text": "must be a string",
}
# JSON can spell a UTF-16 half on its own ("\ud800"); Python keeps it, but no UTF-8 encoder,
# tokenizer or JSON reply takes it. A pair ("\ud83d\ude00") decodes to one character and is fine.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


# --- schemas ----------------------------------------------------------------------------------

class Item(BaseModel):
    """A request item: unknown fields and text without a UTF-8 form are 422s naming the field."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _encodable(cls, value):
        if isinstance(value, str) and (found := _LONE_SURROGATE.search(value)):
            raise PydanticCustomError("lone_surrogate", "not valid UTF-8 text: lone surrogate U+{code} at "
                                      "character {at}", {"code": f"{ord(found.group()):04X}", "at": found.start() + 1})
        return value


class ScoreItem(Item):
    """One thing to score: a record (`text`, quality scorer), a prompt and response (reward scorer)
    or a prompt alone (generative scorer)."""

    id: str | int | None = Field(None, description="Echoed back with the item's scores.")
    text: str | None = Field(None, description="The record (quality scorer).", examples=[
        "张三,北京市朝阳区望京街道123号院5号楼,邮编:100102,联系电话:13812345678"])
    prompt: str | None = Field(None, description="The user turn (reward and generative scorers).")
    response: str | None = Field(None, description="The assistant turn to score (reward scorer).")


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[ScoreItem] = Field(min_length=1, description="At most max_items_per_request items.")


class PairItem(Item):
    """Two responses (to an optional shared prompt); the pair scorer returns both rewards and the margin."""

    id: str | int | None = Field(None, description="Echoed back with the item's scores.")
    prompt: str | None = Field(None, description="The shared user turn, if any.")
    chosen: str = Field(description="First response.")
    rejected: str = Field(description="Second response.")


class PairRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[PairItem] = Field(min_length=1)


class JudgeItem(Item):
    """What the configured judge reads: a question and an answer (pointwise) or two answers
    (pairwise, judged in both orders), and a reference when the judge is reference-based."""

    id: str | int | None = Field(None, description="Echoed back with the item's judgement.")
    question: str | None = Field(None, description="The instruction or question that was answered.")
    answer: str | None = Field(None, description="The answer to score (pointwise judge).")
    answer_1: str | None = Field(None, description="Answer A (pairwise judge).")
    answer_2: str | None = Field(None, description="Answer B (pairwise judge).")
    reference: str | None = Field(None, description="Reference answer (reference-based judge).")


class JudgeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[JudgeItem] = Field(min_length=1, description="At most max_items_per_request items.")


class JudgeResponse(BaseModel):
    mode: str = Field(description="pointwise or pairwise.")
    template: str = Field(description="The judge's prompt template.")
    judgements: list[dict[str, Any]] = Field(description="Per item, in request order: id and the judge job's "
                                             "output columns (pointwise: score, parse_ok, parse_problem, raw, "
                                             "error; pairwise: verdict_ab, verdict_ba, verdict_ba_corrected, "
                                             "consistent, final, reason, explanations, raws, error).")


class ScoreResponse(BaseModel):
    model_fingerprint: str = Field(description="Fingerprint of the model's weights and tokenizer.")
    kind: str = Field(description="Scorer kind, e.g. quality.")
    scores: list[dict[str, Any]] = Field(description="Per item, in request order: id and the scorer's output "
                                         "columns (quality: reward_correct, reward_wrong, p_correct, label; "
                                         "reward: reward; pair: reward_chosen, reward_rejected, margin, p_chosen, "
                                         "preferred; generative: expected_score, digit_mass and, with greedy, answer, "
                                         "greedy_score (null when unparseable), parse_ok; a model trained with checks "
                                         "also returns check_flags, the checks that failed).")


class Health(BaseModel):
    status: str
    kind: str
    model_fingerprint: str
    auth: bool
    stats: dict[str, int] = Field(description="One scorer replica's requests, items, scorer calls (batches), "
                                  "largest batch and milliseconds spent in the scorer so far.")


class Service(Protocol):
    """What the routes need from the scorer (the Api deployment, calling the Scorer deployment);
    each call may raise RequestError(503) when the scorer replica answering it dies."""

    kind: str

    async def describe(self) -> dict:
        """{"model_fingerprint": ..., "judge": {"mode", "template", "required", "optional"} or None}"""

    async def health(self) -> dict:
        """{"kind": ..., "model_fingerprint": ..., "stats": {...}} of one scorer replica."""

    async def score_rows(self, rows: list[dict]) -> list[dict]: ...

    async def judge_rows(self, rows: list[dict]) -> list[dict]: ...


# --- errors -----------------------------------------------------------------------------------

class RequestError(Exception):
    """A request not answered: the status and a message that starts with the field (or the part of
    the service) it is about, and any headers the reply needs (Retry-After)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


def field_path(loc: tuple | list) -> str:
    """("body", "items", 0, "text") -> "items[0].text"; the bare body -> "body"."""
    parts = list(loc[1:] if loc and loc[0] == "body" else loc)
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


async def on_validation_error(_request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        detail = next(e for e in errors if e.get("type") == "json_invalid")
        reason = (detail.get("ctx") or {}).get("error", "JSON decode error")
        return _error(400, f"body: malformed JSON ({reason} at byte {detail['loc'][-1]})")
    # Never echo the input: it can be large and it is the client's data.
    problems = [{"field": field_path(e["loc"]), "message": e["msg"]} for e in errors]
    message = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return _error(422, message, errors=problems)


async def on_request_error(_request, exc: RequestError) -> JSONResponse:
    return _error(exc.status, exc.message, headers=exc.headers)


async def on_http_error(_request, exc: HTTPException) -> JSONResponse:
    cause = exc.__cause__
    if isinstance(cause, UnicodeDecodeError):  # FastAPI's generic 400 for a body that is not UTF-8
        return _error(400, f"body: not valid UTF-8 ({cause.reason} at byte {cause.start})")
    return _error(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


async def on_unexpected_error(request, exc: Exception) -> JSONResponse:
    # Still JSON, so clients parse every reply one way; the details stay in the replica's log.
    logger.error("%s %s failed: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
    return _error(500, "server: unexpected error (logged on the server)")


def _error(status: int, message: str, headers: dict | None = None, **extra) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


# --- guard ------------------------------------------------------------------------------------

class RequestGuard:
    """ASGI middleware in front of every POST: the bearer token first (no body is read for an
    unauthenticated client), then the body size, by Content-Length and by the bytes that arrive
    (a chunked body has no Content-Length). FastAPI's own max_body_size would cover the size,
    but answers plain text without naming the limit, and only after auth could run."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, token: str | None):
        self.app, self.max_body_bytes = app, max_body_bytes
        self._token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        if self._token is not None and not self._authorized(headers.get(b"authorization")):
            logger.warning("rejected %s %s: missing or wrong bearer token", scope["method"], scope["path"])
            return await _reply(send, 401, "authorization: missing or wrong bearer token",
                                [(b"www-authenticate", b"Bearer")])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                declared_bytes = int(declared)
            except ValueError:
                return await _reply(send, 400, "content-length: not an integer")
            if declared_bytes > self.max_body_bytes:
                return await _reply(send, 413, self._too_large(declared_bytes))
        body, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return await _reply(send, 413, self._too_large(size, at_least=True))
            body.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(body), receive), send)

    def _authorized(self, header: bytes | None) -> bool:
        if not header or not header[:7].lower() == b"bearer ":
            return False
        return hmac.compare_digest(header[7:].strip(), self._token)

    def _too_large(self, size: int, at_least: bool = False) -> str:
        if at_least:
            return f"body: more than max_body_bytes={self.max_body_bytes} (stopped reading at {size} bytes)"
        return f"body: {size} bytes (content-length), more than max_body_bytes={self.max_body_bytes}"


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # then wait for the disconnect, as the server would

    return replay


async def _reply(send: Send, status: int, message: str, headers: list | None = None) -> None:
    response = _error(status, message)
    await send({"type": "http.response.start", "status": status,
                "headers": response.raw_headers + (headers or [])})
    await send({"type": "http.response.body", "body": response.body})


# --- items -> rows ----------------------------------------------------------------------------

def item_rows(items: list[BaseModel], endpoint: str, kind: str, max_items: int,
              max_text_chars: int) -> list[dict]:
    """Each item's input fields for the served scorer kind; RequestError naming the first bad field."""
    if kind not in ENDPOINT_KINDS[endpoint]:
        kinds = [repr(k) for k in ENDPOINT_KINDS[endpoint]]
        wanted = " or ".join(filter(None, [", ".join(kinds[:-1]), kinds[-1]]))
        raise RequestError(501, f"{endpoint}: needs a {wanted} scorer; this app serves a {kind!r} scorer "
                                f"(its endpoint is {_endpoint_of(kind)})")
    fields = KIND_FIELDS[kind]
    return checked_rows(items, fields.required, fields.optional, f"{kind!r} scorer", max_items, max_text_chars)


def checked_rows(items: list[BaseModel], fields: tuple[str, ...], optional: tuple[str, ...], reader: str,
                 max_items: int, max_text_chars: int) -> list[dict]:
    """Each item's `fields` (required) and `optional` fields as text; RequestError naming the first
    bad field (a field `reader` does not read, a missing or empty one, one over max_text_chars)."""
    if len(items) > max_items:
        raise RequestError(422, f"items: {len(items)} items, more than max_items_per_request={max_items}")
    for i, item in enumerate(items):
        given = {name for name in type(item).model_fields if name != "id" and getattr(item, name) is not None}
        foreign = sorted(given - set(fields) - set(optional))
        if foreign:
            raise RequestError(422, f"items[{i}].{foreign[0]}: not read by this app's {reader}, "
                                    f"which reads {_shape(fields)} items")
    rows = [{} for _ in items]
    for name in fields + optional:
        values = pa.array([getattr(item, name, None) for item in items], pa.string())
        texts, reasons = validate_texts(values, max_text_chars, "quarantine")
        for i, (text, reason) in enumerate(zip(texts, reasons)):
            if reason == "null_text" and name in optional:
                reason = None
            if reason == "too_long":
                raise RequestError(422, f"items[{i}].{name}: {len(values[i].as_py())} characters, "
                                        f"more than max_text_chars={max_text_chars}")
            if reason is not None:
                shape = f" (this app's {reader} reads {_shape(fields)})" if reason == "null_text" else ""
                raise RequestError(422, f"items[{i}].{name}: {_TEXT_PROBLEMS.get(reason, reason)}{shape}")
            rows[i][name] = text
    return rows


def _shape(fields: tuple[str, ...]) -> str:
    return "{" + ", ".join(f'"{f}": ...' for f in fields) + "}"


def _endpoint_of(kind: str) -> str:
    return next((e for e, kinds in ENDPOINT_KINDS.items() if kind in kinds), "none")


# --- the app ----------------------------------------------------------------------------------

def build_api(service: Service, cfg: ServeJobConfig, token: str | None) -> FastAPI:
    """The FastAPI app of one replica, routing to `service` (the deployment)."""
    api = FastAPI(
        title="rayscore scorer",
        summary=f"{service.kind} scorer over HTTP, batched on Ray Serve",
        description=("Scores come from the same scorer classes as `score_batch`. "
                     + ("Every POST needs `Authorization: Bearer <token>`. " if token else "")
                     + f"Limits: {cfg.max_items_per_request} items per request, {cfg.max_text_chars} "
                       f"characters per text, {cfg.max_body_bytes} bytes per body."),
        version="1",
    )
    api.add_exception_handler(RequestValidationError, on_validation_error)
    api.add_exception_handler(RequestError, on_request_error)
    api.add_exception_handler(HTTPException, on_http_error)
    api.add_exception_handler(Exception, on_unexpected_error)
    api.add_middleware(RequestGuard, max_body_bytes=cfg.max_body_bytes, token=token)

    async def answer(endpoint: str, items: list[BaseModel]) -> dict:
        rows = item_rows(items, endpoint, service.kind, cfg.max_items_per_request, cfg.max_text_chars)
        scores = await service.score_rows(rows)
        return {"model_fingerprint": (await service.describe())["model_fingerprint"], "kind": service.kind,
                "scores": [{"id": item.id, **s} for item, s in zip(items, scores)]}

    @api.get("/healthz", response_model=Health,
             summary="Readiness: the model served and one scorer replica's counters")
    async def healthz() -> dict:
        return {"status": "ok", "auth": token is not None, **(await service.health())}

    @api.post("/v1/score", response_model=ScoreResponse,
              summary="Score records ({text}), prompt/response items or prompts (generative), batched across requests")
    async def score(request: ScoreRequest) -> dict:
        return await answer("/v1/score", request.items)

    @api.post("/v1/score_pairs", response_model=ScoreResponse,
              summary="Score chosen/rejected pairs (needs a pair scorer; 501 otherwise)")
    async def score_pairs(request: PairRequest) -> dict:
        return await answer("/v1/score_pairs", request.items)

    @api.post("/v1/judge", response_model=JudgeResponse,
              summary="LLM judge: a score per answer, or a verdict per pair in both orders (501 without judge_config)")
    async def judge(request: JudgeRequest) -> dict:
        judge = (await service.describe())["judge"]
        if judge is None:
            raise RequestError(501, "/v1/judge: no judge is configured on this app (set judge_config to a "
                                    "judge job's YAML)")
        rows = checked_rows(request.items, tuple(judge["required"]), tuple(judge["optional"]),
                            f"{judge['mode']} judge", cfg.max_items_per_request, cfg.max_text_chars)
        judged = await service.judge_rows(rows)
        return {"mode": judge["mode"], "template": judge["template"],
                "judgements": [{"id": item.id, **j} for item, j in zip(request.items, judged)]}

    return api
