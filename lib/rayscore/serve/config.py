"""The serve_scorer config, and which scorer kinds each scoring endpoint serves.

    cfg = load_config(ServeJobConfig, ["--config", "configs/serve_scorer/addresses.yaml", "port=8001"])
    python -m jobs.serve_scorer --config configs/serve_scorer/addresses.yaml --help   # every key

api.py (schemas, guard, routes) and app.py (the deployment, build_app, run) both read these;
they live here so that the app imports the api and never the reverse. jobs.serve_scorer and
the tests still import ServeJobConfig from rayscore.serve.app, which imports it from here.
The request fields a kind reads are its scorer's (rayscore.score.scorers.KIND_FIELDS): a request
item carries each field under its own name, and the replica puts it in the column the spec names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rayscore.config import range_problems
from rayscore.judge.core import load_judge_spec
from rayscore.score.scorers import ScorerSpec

__all__ = ["ServeJobConfig", "ENDPOINT_KINDS"]

# Which kinds each scoring endpoint accepts; a kind without an endpoint cannot be served. A scorer
# kind added to scorers.py (with its KIND_FIELDS) is served by naming it here.
ENDPOINT_KINDS: dict[str, tuple[str, ...]] = {
    "/v1/score": ("quality", "reward", "classifier", "generative"),
    "/v1/score_pairs": ("pair",),
}
SERVED_KINDS = tuple(kind for kinds in ENDPOINT_KINDS.values() for kind in kinds)


@dataclass
class ServeJobConfig:
    """serve_scorer: a scorer behind HTTP on Ray Serve, batched and autoscaled."""

    scorer: ScorerSpec = field(default_factory=ScorerSpec)
    """The scorer and its model (the same spec as score_batch's)."""
    app_name: str = "scorer"
    """Serve application name (several apps can share one Serve instance)."""
    route_prefix: str = "/"
    """URL prefix of the app's routes."""
    host: str = "127.0.0.1"
    """HTTP proxy address when this job starts Serve (0.0.0.0 to listen on every interface)."""
    port: int = 8000
    """HTTP proxy port when this job starts Serve."""
    max_batch_size: int = 32
    """Most items (over all waiting requests) per scorer call."""
    batch_wait_timeout_s: float = 0.01
    """Longest wait for a batch to fill after its first item arrives."""
    min_replicas: int = 1
    """Fewest replicas (0 lets an idle app scale to zero)."""
    max_replicas: int = 1
    """Most replicas; equal to min_replicas = a fixed number, no autoscaling."""
    target_ongoing_requests: float = 32.0
    """Autoscaling target of in-flight requests per replica."""
    max_ongoing_requests: int = 64
    """Requests a replica takes at once; at least max_batch_size, or batches never fill."""
    cpus_per_replica: float = 1.0
    """CPUs per replica (its torch threads)."""
    gpus_per_replica: float = 0.0
    """GPUs per replica (fractions share a GPU)."""
    max_items_per_request: int = 256
    """Items per request above this get 422."""
    max_text_chars: int = 2000
    """Characters per text field above this get 422."""
    max_body_bytes: int = 1_000_000
    """Request bodies above this get 413 (by Content-Length or by the bytes received)."""
    retry_after_s: int = 2
    """Retry-After of the 503 a request gets when the scorer replica answering it dies, or none runs."""
    auth_token_env: str = "RAYSCORE_SERVE_TOKEN"
    """Environment variable holding the bearer token; auth is on when it is set and non-empty."""
    judge_config: str | None = None
    """A judge job's YAML (configs/judge/*.yaml): its mode, template, rubric, policy and backend answer
    POST /v1/judge (a local judge model loads in each replica); null = /v1/judge answers 501."""
    block: bool = True
    """Job only: wait until interrupted, then delete the app (false: return once it is running)."""

    def check(self) -> list[str]:
        problems = []
        if self.scorer.kind not in SERVED_KINDS:
            problems.append(f"scorer: kind {self.scorer.kind!r} cannot be served yet (known: {sorted(SERVED_KINDS)})")
        if self.scorer.kind == "reward" and self.scorer.messages_column:
            problems.append("scorer: the reward scorer is served on prompt/response items; "
                            "set scorer.messages_column: null")
        if not self.route_prefix.startswith("/"):
            problems.append(f"route_prefix: must start with '/', got {self.route_prefix!r}")
        problems += range_problems(
            self,
            port="[1, 65535]",
            max_batch_size=">= 1",
            batch_wait_timeout_s=">= 0",
            min_replicas=">= 0",
        )
        if self.max_replicas < max(1, self.min_replicas):
            problems.append(f"max_replicas: must be >= max(1, min_replicas={self.min_replicas}), "
                            f"got {self.max_replicas}")
        problems += range_problems(self, target_ongoing_requests="> 0", max_ongoing_requests=">= 1")
        if self.cpus_per_replica < 0 or self.gpus_per_replica < 0:
            problems.append("cpus_per_replica: cpus_per_replica and gpus_per_replica must be >= 0")
        problems += range_problems(self, retry_after_s=">= 0", max_items_per_request=">= 1", max_text_chars=">= 1",
                                   max_body_bytes=">= 1")
        if self.judge_config:
            try:
                load_judge_spec(self.judge_config)
            except (ValueError, OSError) as e:  # ConfigError is a ValueError
                problems.append(f"judge_config: {self.judge_config}: {e}")
        return problems
