"""Run as:
  python benchmarks/check_throughput.py                        # ~1 min on an idle core
  python benchmarks/check_throughput.py --rows 5000 --cpca-rows 200 --out /tmp/check_throughput.json

What the address checks cost: records/s of ADDRESS_CHECKS.run on one core (the process is pinned
to one CPU; the checks are pure Python plus pyahocorasick) over generated records, overall and for correct and
wrong records apart (a wrong record may be read twice: digits removed, a near miss corrected).
The best of --repeats passes counts, so a burst of load on the shared machine does not decide the
number. For comparison, cpca.transform (the address parser the generator once took its table
from; extracts province, city and county only, no verdicts) on --cpca-rows addresses, when cpca
is installed (it is not a dependency). The target is >= 20,000 records/s on one core.
"""

from __future__ import annotations

import argparse
import importlib.resources
import os
import sys
import time
import types
from pathlib import Path

from common import machine, write_result

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "check_throughput.json"
TARGET_ROWS_PER_S = 20_000



def parse_args(argv=None):
    p = argparse.ArgumentParser(description="records/s of the address checks, and of cpca.transform")
    p.add_argument("--rows", type=int, default=50_000, help="records checked per pass")
    p.add_argument("--repeats", type=int, default=3, help="passes over the records; the best counts")
    p.add_argument("--cpca-rows", type=int, default=2_000, help="addresses given to cpca.transform")
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--out", type=Path, default=RESULTS)
    return p.parse_args(argv)


def pin_to_one_core() -> int | None:
    """Run on one CPU, as a scoring actor with 1 CPU does (None where affinity cannot be set)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = sorted(os.sched_getaffinity(0))[-1]
    os.sched_setaffinity(0, {cpu})
    return cpu


def load_records(rows: int, seed: int) -> tuple[list[str], list[str], str]:
    """(texts, labels, where they came from): generated records, half of them wrong."""
    from rayscore.addresses.records import generate_records

    frame = generate_records(rows, seed=seed, error_rate=0.5)
    return frame["text"].tolist(), frame["label"].tolist(), "rayscore.addresses.records.generate_records"


def time_checks(texts: list[str], repeats: int) -> tuple[float, list]:
    """(best records/s, the results of the last pass)."""
    from rayscore.addresses.checks import ADDRESS_CHECKS

    best, results = 0.0, []
    for _ in range(repeats):
        started = time.perf_counter()
        results = ADDRESS_CHECKS.run(texts)
        best = max(best, len(texts) / (time.perf_counter() - started))
    return best, results


def import_cpca():
    """cpca, or the reason it does not import. cpca 0.5.5 reads its table with
    pkg_resources.resource_stream, gone from setuptools >= 81: a stand-in serves that one call."""
    try:
        import cpca

        return cpca, None
    except ModuleNotFoundError as e:
        if e.name != "pkg_resources":
            return None, f"{type(e).__name__}: {e}"
    except Exception as e:
        return None, f"{type(e).__name__}: {e}"
    stand_in = types.ModuleType("pkg_resources")
    stand_in.resource_stream = lambda package, name: importlib.resources.files(package).joinpath(name).open("rb")
    sys.modules["pkg_resources"] = stand_in
    try:
        import cpca

        return cpca, None
    except Exception as e:
        return None, f"{type(e).__name__}: {e}"


def time_cpca(addresses: list[str]) -> dict:
    started = time.perf_counter()
    cpca, reason = import_cpca()
    if cpca is None:
        return {"skipped": reason}
    cpca.transform(addresses[:10])   # its table and matcher load on first use
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    cpca.transform(addresses)
    seconds = time.perf_counter() - started
    return {"rows": len(addresses), "rows_per_s": round(len(addresses) / seconds, 1), "seconds": round(seconds, 3),
            "import_and_load_s": round(loaded, 2), "version": getattr(cpca, "__version__", "unknown")}


def main(argv=None) -> int:
    args = parse_args(argv)
    load_before = os.getloadavg()
    cpu = pin_to_one_core()
    texts, labels, source = load_records(args.rows, args.seed)

    from rayscore.addresses.checks import ADDRESS_CHECKS, FLAGS, inspect

    started = time.perf_counter()
    ADDRESS_CHECKS.run(texts[:1])   # builds the division index, once per process
    index_s = time.perf_counter() - started
    overall, results = time_checks(texts, args.repeats)
    by_label = {label: round(time_checks([t for t, x in zip(texts, labels) if x == label], args.repeats)[0], 1)
                for label in sorted(set(labels))}
    flagged = {f: sum(f in r.flags for r in results) for f in FLAGS}
    addresses = [inspect(t).address or t for t in texts[: args.cpca_rows]]
    cpca_result = time_cpca(addresses)

    result = {
        "benchmark": "check_throughput", "source": source, "rows": len(texts), "repeats": args.repeats,
        "pinned_cpu": cpu, "index_build_s": round(index_s, 3),
        "checks": {"rows_per_s": round(overall, 1), "rows_per_s_by_label": by_label,
                   "target_rows_per_s": TARGET_ROWS_PER_S, "meets_target": overall >= TARGET_ROWS_PER_S,
                   "rows_flagged": sum(bool(r.flags) for r in results), "rows_per_flag": flagged},
        "cpca_transform": cpca_result,
        "machine": machine(load_before), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    print(f"\n{'variant':<34}{'rows':>8}{'rows/s':>12}")
    print(f"{'ADDRESS_CHECKS.run':<34}{len(texts):>8}{overall:>12.1f}")
    for label, rate in by_label.items():
        print(f"{'  ' + label + ' records only':<34}{labels.count(label):>8}{rate:>12.1f}")
    if "skipped" in cpca_result:
        print(f"{'cpca.transform':<34}{'skipped: ' + cpca_result['skipped']:>20}")
    else:
        print(f"{'cpca.transform':<34}{cpca_result['rows']:>8}{cpca_result['rows_per_s']:>12.1f}")
    print(f"source: {source}; index built in {index_s:.2f} s; target {TARGET_ROWS_PER_S} rows/s "
          f"{'met' if overall >= TARGET_ROWS_PER_S else 'NOT met'}")
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
