"""Connecting a job to Ray: the cluster named by RAY_ADDRESS (as under `ray job submit`), or a
local in-process Ray. Resources and the runtime environment belong to the cluster or the submit
command, never to the job."""

import logging
import os

from rayscore.logs import quiet_libraries

logger = logging.getLogger(__name__)


def ensure_ray() -> None:
    """ray.init() once, after the environment that quiets its processes is set (a local Ray's
    workers inherit it), with Ray Data's progress report off; logs one line: where Ray runs, its
    CPUs and its dashboard."""
    quiet_libraries()
    if not os.environ.get("RAY_ADDRESS"):
        # A new local instance turns token auth on either way; said explicitly, Ray does so
        # without a warning telling how to opt out.
        os.environ.setdefault("RAY_AUTH_MODE", "token")
    import ray
    from ray.data import DataContext

    # Ray Data's own report (a block of lines every 10 s when stdout is not a terminal) and its
    # execution plan: the jobs log their rows, rate and ETA themselves.
    DataContext.get_current().enable_progress_bars = False
    DataContext.get_current().print_on_execution_start = False
    if ray.is_initialized():
        return
    context = ray.init()
    resources = ray.cluster_resources()
    where = f"Ray cluster at {os.environ['RAY_ADDRESS']}" if os.environ.get("RAY_ADDRESS") else "local Ray"
    url = context.dashboard_url
    dashboard = f"; dashboard {url if '://' in url else 'http://' + url}" if url else ""
    logger.info("%s: %g CPUs, %g GPUs, %.1f GB memory%s", where, resources.get("CPU", 0), resources.get("GPU", 0),
                resources.get("memory", 0) / 1e9, dashboard)
