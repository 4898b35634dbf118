"""What the benchmarks share: a 2-CPU local Ray, a peak-RSS sampler, the machine's record, the JSON file."""

from __future__ import annotations

import json
import os
import platform
import threading
import time
from pathlib import Path


def start_local_ray(root: Path) -> None:
    import ray

    from rayscore.logs import NOISE_ENV
    from rayscore.runtime import ensure_ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             _temp_dir=str(root / "ray"), runtime_env={"env_vars": {"HF_HUB_OFFLINE": "1", **NOISE_ENV}})
    ensure_ray()  # Ray is up: this only turns Ray Data's console report off, as the jobs do


class PeakRss:
    """Peak RSS, sampled every `every_s` by a thread (psutil) while the `with` block runs: of this
    process (the driver), of each child whose command line holds `actor_title` (Ray titles its
    scoring actors after the class), of those actors together, and of every child with the driver.

        with PeakRss() as peaks: run(cfg)
        peaks.mb()   # {"driver_peak_rss_mb": ..., "actor_peak_rss_mb": ..., ...}
    """

    def __init__(self, actor_title: str = "ChunkWorker", every_s: float = 0.5):
        self.actor_title, self.every_s = actor_title, every_s
        self.driver = self.actors_total = self.everything = 0
        self.actors: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            own = me.memory_info().rss
            actors, everything = 0, own
            for child in me.children(recursive=True):
                try:
                    rss, title = child.memory_info().rss, " ".join(child.cmdline())
                except psutil.Error:
                    continue
                everything += rss
                if self.actor_title in title:
                    self.actors[child.pid] = max(self.actors.get(child.pid, 0), rss)
                    actors += rss
            self.driver = max(self.driver, own)
            self.actors_total = max(self.actors_total, actors)
            self.everything = max(self.everything, everything)
            time.sleep(self.every_s)

    def mb(self) -> dict:
        mb = 2**20
        return {"driver_peak_rss_mb": round(self.driver / mb),
                "actor_peak_rss_mb": round(max(self.actors.values(), default=0) / mb),
                "actors": len(self.actors), "actors_total_peak_rss_mb": round(self.actors_total / mb),
                "all_ray_processes_peak_rss_mb": round(self.everything / mb)}


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


def record_result(out: Path, result: dict, load_before: tuple[float, ...]) -> None:
    """The result with the machine it ran on and when, written to `out`."""
    result.update(machine=machine(load_before), date=time.strftime("%Y-%m-%d %H:%M:%S"))
    write_result(out, result)


def write_result(out: Path, result: dict) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")


def parse_modes(text: str, choices: tuple[str, ...]) -> list[str]:
    """A comma-separated --modes value, each a choice (exits naming the unknown ones)."""
    modes = [m for m in text.split(",") if m]
    unknown = set(modes) - set(choices)
    if unknown:
        raise SystemExit(f"--modes: unknown {sorted(unknown)}; choose from {choices}")
    return modes
