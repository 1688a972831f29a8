"""Accuracy and speed of the template miner against Drain3 on the Loghub-2k systems, in one run.

Both parsers get the same message lists; the scoring is the shared harness's own code
(``../shared/bench/loghub_eval.py``, imported by path): GA (grouping accuracy) and PA (exact
template match) per system, and lines/s as the median over ``--repeat`` runs of each parser
call (construction included), the two parsers' runs interleaved so machine noise hits both.
Drain3 runs with its defaults and returns, per line, its cluster's final template. Ours runs
with its single global setting, no per-system option.

    .venv/bin/python -m benchmarks.bench_patterns [--quick] [--repeat N]

Data: ``$LOGHUB_DIR`` (default ``../shared/data/loghub2k`` next to the repository); harness:
``$LOGHUB_EVAL`` (default ``../shared/bench/loghub_eval.py``). Missing either, it says so and exits 0.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from tools.log_analyzer.patterns import mine_templates

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "loghub2k"
DEFAULT_HARNESS = ROOT.parent / "shared" / "bench" / "loghub_eval.py"
SYSTEMS = ["HDFS", "Spark", "BGL", "HPC", "Linux", "HealthApp", "Proxifier", "OpenStack"]
QUICK_SYSTEMS = ["HDFS", "Proxifier", "OpenStack"]
GOAL_GA = 0.90

Parser = Callable[[list[str]], list[Any]]


def load_harness(path: Path) -> ModuleType:
    """Import the shared scoring harness from its file."""
    spec = importlib.util.spec_from_file_location("loghub_eval", path)
    if spec is None or spec.loader is None:
        raise ImportError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def drain3_parser() -> Parser | None:
    """Return Drain3 with its defaults as a parser, or None when it is not installed."""
    try:
        from drain3 import TemplateMiner  # type: ignore[import-untyped]
        from drain3.template_miner_config import TemplateMinerConfig  # type: ignore[import-untyped]
    except ImportError:
        return None
    logging.getLogger("drain3").setLevel(logging.WARNING)

    def parse(lines: list[str]) -> list[tuple[int, str]]:
        miner = TemplateMiner(config=TemplateMinerConfig())  # its defaults, without looking for drain3.ini
        ids = [miner.add_log_message(line)["cluster_id"] for line in lines]
        final = {cluster.cluster_id: cluster.get_template() for cluster in miner.drain.clusters}
        return [(cid, final[cid]) for cid in ids]

    return parse


def measure(harness: ModuleType, parsers: dict[str, Parser], lines: list[str], gt_templates: list[str],
            gt_keys: list[str], repeat: int) -> dict[str, dict[str, float]]:
    """Score parsers on one system: GA, PA and median lines/s, runs interleaved to share the noise."""
    times: dict[str, list[float]] = {name: [] for name in parsers}
    outputs: dict[str, list[Any]] = {}
    for _ in range(repeat):
        for name, parse in parsers.items():
            start = time.perf_counter()
            outputs[name] = list(parse(list(lines)))
            times[name].append(time.perf_counter() - start)
    scores = {}
    for name in parsers:
        result, _ = harness.evaluate(gt_templates, gt_keys, outputs[name])
        seconds = statistics.median(times[name])
        scores[name] = {"GA": result["GA"], "PA": result["PA"] or 0.0, "lines": len(lines),
                        "seconds": seconds, "lines_per_s": len(lines) / seconds if seconds else float("inf")}
    return scores


def run(harness: ModuleType, data_dir: Path, systems: Sequence[str], repeat: int,
        parsers: dict[str, Parser]) -> dict[str, dict[str, dict[str, float]]]:
    """Score every parser on every system; returns results[parser][system]."""
    results: dict[str, dict[str, dict[str, float]]] = {name: {} for name in parsers}
    for system in systems:
        lines, gt_templates, gt_keys, _ = harness.load_dataset(str(data_dir), system)
        for name, score in measure(harness, parsers, lines, gt_templates, gt_keys, repeat).items():
            results[name][system] = score
    return results


def averages(rows: dict[str, dict[str, float]]) -> dict[str, float]:
    """Unweighted mean of GA and PA over systems (as the papers do); lines/s over all lines."""
    seconds = sum(row["seconds"] for row in rows.values())
    return {"GA": statistics.fmean(row["GA"] for row in rows.values()),
            "PA": statistics.fmean(row["PA"] for row in rows.values()),
            "lines_per_s": sum(row["lines"] for row in rows.values()) / seconds if seconds else float("inf")}


def render(results: dict[str, dict[str, dict[str, float]]], systems: Sequence[str]) -> str:
    """Format the side-by-side table, the averages and the speed ratio."""
    names = list(results)
    head = f"{'system':<11}" + "".join(f"{n + ' GA':>11}{n + ' PA':>11}{n + ' l/s':>13}" for n in names)
    out = [head, "-" * len(head)]
    for system in systems:
        cells = "".join(f"{results[n][system]['GA']:>11.3f}{results[n][system]['PA']:>11.3f}"
                        f"{results[n][system]['lines_per_s']:>13,.0f}" for n in names)
        out.append(f"{system:<11}{cells}")
    means = {n: averages(results[n]) for n in names}
    out.append("-" * len(head))
    out.append(f"{'average':<11}" + "".join(f"{means[n]['GA']:>11.3f}{means[n]['PA']:>11.3f}"
                                            f"{means[n]['lines_per_s']:>13,.0f}" for n in names))
    if len(names) == 2:
        ours, anchor = (means[n] for n in names)
        out.append(f"speed ratio {names[0]}/{names[1]}: {ours['lines_per_s'] / anchor['lines_per_s']:.2f}x; "
                   f"GA goal {GOAL_GA:.2f}: {'met' if ours['GA'] >= GOAL_GA else 'NOT met'}")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run both parsers, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK_SYSTEMS)}, 3 runs")
    parser.add_argument("--repeat", type=int, default=None, help="runs per parser and system (default 7)")
    args = parser.parse_args(argv)
    data_dir = Path(os.environ.get("LOGHUB_DIR", DEFAULT_DATA))
    harness_path = Path(os.environ.get("LOGHUB_EVAL", DEFAULT_HARNESS))
    if not harness_path.is_file() or not data_dir.is_dir():
        print(f"bench_patterns: skipped, Loghub data ({data_dir}) or harness ({harness_path}) not found; "
              "set LOGHUB_DIR / LOGHUB_EVAL")
        return 0
    systems = [s for s in (QUICK_SYSTEMS if args.quick else SYSTEMS) if (data_dir / s).is_dir()]
    repeat = args.repeat or (3 if args.quick else 7)
    parsers: dict[str, Parser] = {"ours": mine_templates}
    drain3 = drain3_parser()
    if drain3 is None:
        print("bench_patterns: drain3 not installed (pip install drain3); showing ours alone")
    else:
        parsers["drain3"] = drain3
    results = run(load_harness(harness_path), data_dir, systems, repeat, parsers)
    print(f"Template miner vs Drain3 (defaults) on Loghub-2k, {repeat} runs each, median speed; "
          f"python {sys.version.split()[0]}")
    print(render(results, systems))
    return 0


if __name__ == "__main__":
    sys.exit(main())
