"""What the training benchmarks share: a 2-CPU local Ray, the machine's record, the JSON file."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path


def start_local_ray(root: Path) -> None:
    import ray

    from rayscore.logs import NOISE_ENV

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             _temp_dir=str(root / "ray"), runtime_env={"env_vars": {"HF_HUB_OFFLINE": "1", **NOISE_ENV}})


def machine(load_before: tuple[float, ...]) -> dict:
    """CPUs, load average before and after (other work on the machine moves every number), versions."""
    import ray
    import torch
    import transformers
    import trl

    return {"cpus": os.cpu_count(), "load_avg_before": [round(x, 2) for x in load_before],
            "load_avg_after": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version(),
            "torch": torch.__version__, "transformers": transformers.__version__, "trl": trl.__version__,
            "ray": ray.__version__}


def write_result(out: Path, result: dict) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")
