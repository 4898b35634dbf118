"""Shared fixtures: one real local Ray for the whole session, and small generated data."""

import os

import pytest

# No model hub here or in CI: every load is from a local path.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def ray_local():
    """A real in-process Ray (4 logical CPUs on 2 cores: room for 2 train workers or actors plus
    Ray Data's read tasks, which otherwise starve; see STACK notes on the actor-pool deadlock)."""
    import ray

    if not ray.is_initialized():
        ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}})
    yield ray
    ray.shutdown()
