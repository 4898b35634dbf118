"""The scorer behind HTTP on Ray Serve: the same scorer classes as score_batch, dynamic batching
across concurrent requests, replicas and autoscaling from a typed config.

Run as:
  python -m jobs.serve_scorer --config configs/serve_scorer/addresses.yaml      # blocks; Ctrl-C stops
  serve run rayscore.serve.app:build_app config=configs/serve_scorer/addresses.yaml
  curl -s localhost:8000/v1/score -H 'content-type: application/json' \
       -d '{"items": [{"id": 1, "text": "张三,北京市朝阳区望京街道123号院5号楼,邮编:100102"}]}'

`build_app({"config": path, **overrides})` is the Serve application builder (also named by
cluster/kuberay/rayservice-serve-scorer.yaml); overrides are config keys, dotted or nested, e.g.
`{"scorer.model_dir": "/mnt/shared/model"}`. Routes and errors are described in api.py.

Two deployments: Api (the HTTP routes, one replica, no model) calls Scorer (the model; replicas
and autoscaling from the config) through a DeploymentHandle. A scorer replica that dies mid-request
(kill -9, out of memory) fails only its in-flight requests, each with a JSON 503 and Retry-After;
Serve starts a replacement, and requests that arrive meanwhile wait for it (or go to another replica).

Batching: each item of each request is queued on its own; `@serve.batch` hands the scorer up to
max_batch_size items from whatever requests are waiting (at most batch_wait_timeout_s after the
first), in one `scorer.score` call that runs in a thread so the replica keeps accepting requests.
`judge_config` (a judge job's YAML) adds a judge behind POST /v1/judge (judge/online.py): each
request's items are judged together, in a thread, by rayscore.judge.core, as in the judge job.
Bearer auth is on when the environment variable named by auth_token_env is set and non-empty
where the app is built; the token travels to replicas as a constructor argument (never in a
runtime env, which the dashboard and state API show), and is never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace

from ray import serve
from ray.exceptions import RayActorError
from ray.serve.exceptions import DeploymentUnavailableError
from ray.serve.handle import DeploymentHandle

from rayscore.config import load_config
from rayscore.io import absolute, json_value
from rayscore.judge.core import JudgeSpec, load_judge_spec
from rayscore.judge.online import OnlineJudge
from rayscore.logs import quiet_libraries
from rayscore.score.scorers import KIND_FIELDS, build_scorer
from rayscore.serve.api import RequestError, build_api

# ServeJobConfig is imported here for jobs.serve_scorer and the tests, which name it from the app.
from rayscore.serve.config import ServeJobConfig

logger = logging.getLogger(__name__)


class Secret(str):
    """A str whose repr never shows its value (it may end up in a traceback or a debug line)."""

    def __repr__(self) -> str:
        return "Secret('***')"


@serve.deployment(name="Scorer")
class ScorerDeployment:
    """One scorer replica: loads the model (and the judge) once; the Api deployment calls it."""

    def __init__(self, cfg: ServeJobConfig, judge: JudgeSpec | None = None):
        import torch

        quiet_libraries()

        torch.set_num_threads(cfg.scorer.torch_threads or max(1, int(cfg.cpus_per_replica)))
        self.scorer = build_scorer(cfg.scorer)
        self.judge = OnlineJudge(judge) if judge is not None else None
        self.kind, self.fingerprint = cfg.scorer.kind, self.scorer.fingerprint
        # The frame column each request field goes to (quality: text -> spec.text_column).
        fields = KIND_FIELDS[self.kind]
        self.columns = {name: cfg.scorer.column(name) for name in fields.required + fields.optional}
        self.stats: Counter = Counter(requests=0, items=0, batches=0, largest_batch=0, scorer_ms=0)
        self.score_batched.set_max_batch_size(cfg.max_batch_size)
        self.score_batched.set_batch_wait_timeout_s(cfg.batch_wait_timeout_s)
        logger.info("serving a %s scorer, model %s; batches of <= %d items", self.kind, self.fingerprint,
                    cfg.max_batch_size)

    def describe(self) -> dict:
        judge = self.judge and {"mode": self.judge.cfg.mode, "template": self.judge.cfg.template,
                                "required": self.judge.required, "optional": self.judge.optional}
        return {"model_fingerprint": self.fingerprint, "judge": judge}

    def health(self) -> dict:
        return {"kind": self.kind, "model_fingerprint": self.fingerprint, "stats": dict(self.stats)}

    async def score_rows(self, rows: list[dict]) -> list[dict]:
        """Scores of one request's items; each item joins whatever batch is forming."""
        self.stats["requests"] += 1
        self.stats["items"] += len(rows)
        return list(await asyncio.gather(*(self.score_batched(row) for row in rows)))

    async def judge_rows(self, rows: list[dict]) -> list[dict]:
        """One request's items judged together (the http backend sends them concurrently), in a thread."""
        return await asyncio.to_thread(self.judge.judge, rows)

    @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.01)  # reset from the config in __init__
    async def score_batched(self, rows: list[dict]) -> list[dict]:
        import pandas as pd

        self.stats["batches"] += 1
        self.stats["largest_batch"] = max(self.stats["largest_batch"], len(rows))
        frame = pd.DataFrame({col: [row[name] for row in rows] for name, col in self.columns.items()})
        # A thread: the forward pass holds no event loop, so the next batch fills meanwhile.
        started = time.perf_counter()
        scored = await asyncio.to_thread(self.scorer.score, frame)
        self.stats["scorer_ms"] += round((time.perf_counter() - started) * 1000)
        # NaN (an unparseable greedy answer) goes out as null.
        return json_value(scored.to_dict(orient="records"))


# The HTTP side lives in its own small deployment so that a scorer replica's death reaches code of
# ours: the handle call raises, and the client gets a JSON 503 with Retry-After. Were the routes
# in the Scorer replica, the process that dies would be the one answering, and Serve's proxy
# turns the lost actor into a plain-text 500. No CPU is reserved for it (it parses, checks and
# forwards; the Scorer holds the model), and its queue is as deep as all scorer replicas' together.
@serve.deployment(name="Api", num_replicas=1, ray_actor_options={"num_cpus": 0})
@serve.ingress()  # late-bound: each replica builds its FastAPI app from its own config
class ApiDeployment:
    """The routes of api.py; every scorer call goes through the Scorer deployment's handle."""

    def __init__(self, cfg: ServeJobConfig, scorer: DeploymentHandle, token: Secret | None = None):
        self.cfg, self._scorer, self._token = cfg, scorer, token
        self.kind = cfg.scorer.kind
        self._described: dict | None = None
        logger.info("routes for a %s scorer; bearer auth %s", self.kind, "on" if token else "off")

    def __serve_build_asgi_app__(self):
        return build_api(self, self.cfg, self._token)

    async def describe(self) -> dict:
        if self._described is None:  # the same for every replica of the app: asked once
            self._described = await self._call("describe")
        return self._described

    async def health(self) -> dict:
        return await self._call("health")

    async def score_rows(self, rows: list[dict]) -> list[dict]:
        return await self._call("score_rows", rows)

    async def judge_rows(self, rows: list[dict]) -> list[dict]:
        return await self._call("judge_rows", rows)

    async def _call(self, method: str, *args):
        try:
            return await getattr(self._scorer, method).remote(*args)
        except RayActorError as e:  # ActorDiedError (kill -9, OOM, node lost) or ActorUnavailableError
            why = "the scorer replica answering this request stopped"
            logger.warning("%s: %s", why, type(e).__name__)
        except DeploymentUnavailableError:
            why = "the scorer deployment is unavailable"
            logger.warning(why)
        raise RequestError(503, f"scorer: {why}; retry in {self.cfg.retry_after_s} s",
                           headers={"Retry-After": str(self.cfg.retry_after_s)})


def deployment_options(cfg: ServeJobConfig) -> dict:
    """Replicas, autoscaling and resources of the Scorer deployment."""
    options = {
        "max_ongoing_requests": cfg.max_ongoing_requests,
        "ray_actor_options": {"num_cpus": cfg.cpus_per_replica, "num_gpus": cfg.gpus_per_replica},
    }
    if cfg.min_replicas == cfg.max_replicas:
        options["num_replicas"] = cfg.max_replicas
    else:
        options["autoscaling_config"] = {"min_replicas": cfg.min_replicas, "max_replicas": cfg.max_replicas,
                                         "target_ongoing_requests": cfg.target_ongoing_requests}
    return options


def absolute_paths(cfg: ServeJobConfig) -> ServeJobConfig:
    """Local model paths made absolute where the app is built (replicas run elsewhere)."""
    return replace(cfg, scorer=replace(cfg.scorer, model_dir=absolute(cfg.scorer.model_dir)))


def read_token(cfg: ServeJobConfig) -> Secret | None:
    token = os.environ.get(cfg.auth_token_env, "") if cfg.auth_token_env else ""
    if not token:
        logger.warning("bearer auth is off: $%s is not set", cfg.auth_token_env or "(auth_token_env empty)")
    return Secret(token) if token else None


def app_from_config(cfg: ServeJobConfig) -> serve.Application:
    """The bound Serve application for a typed config."""
    cfg = absolute_paths(cfg)
    judge = load_judge_spec(cfg.judge_config) if cfg.judge_config else None  # read here, not in replicas
    scorer = ScorerDeployment.options(**deployment_options(cfg)).bind(cfg, judge)
    # The Api queues what every scorer replica can take, so it never is the narrower queue.
    queue = cfg.max_ongoing_requests * cfg.max_replicas
    return ApiDeployment.options(max_ongoing_requests=queue).bind(cfg, scorer, read_token(cfg))


def build_app(args: dict) -> serve.Application:
    """Serve application builder: args = {"config": path, **config overrides (dotted or nested)}.
    `serve run ... key=value` passes strings, read like command-line overrides; a YAML serve
    config passes typed values."""
    args = dict(args)
    path = args.pop("config", None)
    overrides = [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in args.items()]
    argv = (["--config", str(path)] if path else []) + overrides
    return app_from_config(load_config(ServeJobConfig, argv))


@dataclass
class ServeResult:
    url: str
    app_name: str
    ok: bool


def run(cfg: ServeJobConfig) -> ServeResult:
    """Start Serve on cfg.host:cfg.port (if not running), deploy the app, then block or return."""
    serve.start(http_options={"host": cfg.host, "port": cfg.port})
    serve.run(app_from_config(cfg), name=cfg.app_name, route_prefix=cfg.route_prefix)
    status = serve.status().applications[cfg.app_name].status
    url = f"http://{cfg.host}:{cfg.port}{cfg.route_prefix.rstrip('/')}"
    logger.info("app %r is %s at %s (docs: %s/docs)", cfg.app_name, status, url, url)
    if cfg.block:
        wait_for_interrupt()
        logger.info("stopping app %r", cfg.app_name)
        serve.delete(cfg.app_name)
    return ServeResult(url, cfg.app_name, ok=status == "RUNNING")


def wait_for_interrupt() -> None:
    """Until Ctrl-C or SIGTERM (`ray job stop` sends SIGTERM to the entrypoint)."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
