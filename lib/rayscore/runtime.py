"""Connecting a job to Ray: the cluster named by RAY_ADDRESS (as under `ray job submit`), or a
local in-process Ray. Resources and the runtime environment belong to the cluster or the submit
command, never to the job."""

import logging
import os

logger = logging.getLogger(__name__)


def ensure_ray() -> None:
    import ray

    if ray.is_initialized():
        return
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Ray Train sends a worker's print() to its logger even while a library has captured stdout
    # (dill disassembles functions into a captured buffer while datasets fingerprints them),
    # which floods the console with bytecode and prints every training log line twice.
    os.environ.setdefault("RAY_TRAIN_ENABLE_PRINT_PATCH", "0")
    ray.init()
    logger.info("Ray resources: %s", ray.cluster_resources())

