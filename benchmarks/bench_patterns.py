"""Accuracy, generalisation, speed and memory of the template miner against Drain3, in one run.

Four tables, ours and Drain3 (its defaults) side by side on the same messages:

1. **plain**: the 8 Loghub-2k systems of ``../shared/data/loghub2k`` with our one global setting:
   GA, FGA, PA (the shared harness's own code, imported by path) and lines/s (median over
   ``--repeat`` runs of each parser call, construction included, the two parsers interleaved);
2. **leave-one-system-out**: for each system, the setting (similarity x max_values, from ``GRID``)
   with the best average GA on the *other* seven is chosen and scores the held-out one, so nothing
   is tuned on the system being scored; systems in ``$LOGHUB_EXTRA_DIR`` (e.g. the other 8 of the
   16 Loghub-2k systems) are scored with the setting chosen on all 8 and never tuned on at all;
3. **crypto-assistant errors**: the labelled corpus of ``benchmarks.error_corpus``;
4. **memory**: ``TemplateMiner.add`` over ``--memory-lines`` distinct lines (5 M in a full run),
   resident memory at checkpoints: it must flatten, not grow with the input.

    .venv/bin/python -m benchmarks.bench_patterns [--quick] [--repeat N] [--memory-lines N]

Data: ``$LOGHUB_DIR`` (default ``../shared/data/loghub2k`` next to the repository); harness:
``$LOGHUB_EVAL`` (default ``../shared/bench/loghub_eval.py``). Missing either, the Loghub tables
are skipped with a message (the corpus and memory tables still run).
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
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import psutil

from benchmarks._timing import table
from benchmarks.error_corpus import crypto_error_corpus
from crypto_observability.log_analyzer.patterns import MAX_VALUES, SIMILARITY, TemplateMiner, mine_templates

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "loghub2k"
DEFAULT_HARNESS = ROOT.parent / "shared" / "bench" / "loghub_eval.py"
SYSTEMS = ["HDFS", "Spark", "BGL", "HPC", "Linux", "HealthApp", "Proxifier", "OpenStack"]
QUICK_SYSTEMS = ["HDFS", "Proxifier", "OpenStack"]
GRID = [(similarity, max_values) for similarity in (0.5, 0.6, 0.7) for max_values in (4, 5, 6)]
GOAL_LOSO_GA, GOAL_LOSO_FLOOR, GOAL_CORPUS_GA = 0.95, 0.85, 1.0
METRICS = ("GA", "FGA", "PA")

Parser = Callable[[list[str]], list[Any]]
Scores = dict[str, float]


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
        from drain3 import TemplateMiner as Drain3Miner  # type: ignore[import-untyped]
        from drain3.template_miner_config import TemplateMinerConfig  # type: ignore[import-untyped]
    except ImportError:
        return None
    logging.getLogger("drain3").setLevel(logging.WARNING)

    def parse(lines: list[str]) -> list[tuple[int, str]]:
        miner = Drain3Miner(config=TemplateMinerConfig())  # its defaults, without looking for drain3.ini
        ids = [miner.add_log_message(line)["cluster_id"] for line in lines]
        final = {cluster.cluster_id: cluster.get_template() for cluster in miner.drain.clusters}
        return [(cid, final[cid]) for cid in ids]

    return parse


def score(harness: ModuleType, gt_templates: list[str], output: list[Any]) -> Scores:
    """GA, FGA and PA of one parser's output, by the harness's code (groups keyed by true template)."""
    result, _ = harness.evaluate(gt_templates, gt_templates, output)
    return {"GA": result["GA"], "FGA": result["FGA"], "PA": result["PA"] or 0.0}


def measure(harness: ModuleType, parsers: dict[str, Parser], lines: list[str], gt_templates: list[str],
            repeat: int) -> dict[str, Scores]:
    """Score parsers on one message list: accuracy and median lines/s, runs interleaved to share the noise."""
    times: dict[str, list[float]] = {name: [] for name in parsers}
    outputs: dict[str, list[Any]] = {}
    for _ in range(repeat):
        for name, parse in parsers.items():
            start = time.perf_counter()
            outputs[name] = list(parse(list(lines)))
            times[name].append(time.perf_counter() - start)
    scores = {}
    for name in parsers:
        seconds = statistics.median(times[name])
        scores[name] = {**score(harness, gt_templates, outputs[name]), "lines": len(lines), "seconds": seconds}
    return scores


def load(harness: ModuleType, data_dir: Path, systems: Sequence[str]) -> dict[str, tuple[list[str], list[str]]]:
    """Read (messages, true templates) of each system."""
    out = {}
    for system in systems:
        lines, templates, _, _ = harness.load_dataset(str(data_dir), system)
        out[system] = (lines, templates)
    return out


def leave_one_out(harness: ModuleType, data: dict[str, tuple[list[str], list[str]]],
                  grid: Sequence[tuple[float, int]], always: tuple[list[str], list[str]] | None = None,
                  ) -> tuple[dict[str, tuple[tuple[float, int], Scores]], tuple[float, int]]:
    """Per system: the setting with the best mean GA on the others, and its scores on that system.

    ``always`` (our own error corpus) is part of every training set, never scored here. Ties go to
    the earlier setting in ``grid``. Also returns the setting chosen on all systems.
    """
    sets = {**data, **({"": always} if always else {})}
    by_setting: dict[tuple[float, int], dict[str, Scores]] = {}
    for similarity, max_values in grid:
        parse = partial(mine_templates, similarity=similarity, max_values=max_values)
        by_setting[(similarity, max_values)] = {name: score(harness, gt, parse(lines))
                                                for name, (lines, gt) in sets.items()}

    def best(names: Sequence[str]) -> tuple[float, int]:
        return max(grid, key=lambda s: (round(statistics.fmean(by_setting[s][x]["GA"] for x in names), 6),
                                        -grid.index(s)))

    held = {system: (choice := best([x for x in sets if x != system]), by_setting[choice][system])
            for system in data}
    return held, best(list(sets))


def mean(rows: Sequence[Scores], metric: str) -> float:
    """Unweighted mean over systems, as the papers report."""
    return statistics.fmean(row[metric] for row in rows)


def speed(rows: Sequence[Scores]) -> float:
    """Lines per second over all systems together."""
    seconds = sum(row["seconds"] for row in rows)
    return sum(row["lines"] for row in rows) / seconds if seconds else float("inf")


def plain_table(results: dict[str, dict[str, Scores]], systems: Sequence[str]) -> str:
    """Side-by-side accuracy and speed per system, with the averages."""
    names = list(results)
    header = ("system", *(f"{n} {m}" for n in names for m in (*METRICS, "lines/s")))
    rows = [(system, *(cell for n in names for cell in _cells(results[n][system]))) for system in systems]
    rows.append(("average", *(cell for n in names for cell in (
        *(f"{mean(list(results[n].values()), m):.3f}" for m in METRICS), f"{speed(list(results[n].values())):,.0f}"))))
    return table(rows, header)


def _cells(row: Scores) -> list[str]:
    """Format one parser's metrics and speed."""
    return [*(f"{row[m]:.3f}" for m in METRICS), f"{row['lines'] / row['seconds']:,.0f}"]


def loso_table(held: dict[str, tuple[tuple[float, int], Scores]], drain: dict[str, Scores]) -> str:
    """Leave-one-system-out scores next to Drain3's defaults."""
    header = ("held-out system", "setting chosen on the others", *(f"ours {m}" for m in METRICS),
              *(f"drain3 {m}" for m in METRICS))
    rows = [(system, f"similarity {s:.1f}, max_values {v}", *(f"{scores[m]:.3f}" for m in METRICS),
             *(f"{drain[system][m]:.3f}" if system in drain else "-" for m in METRICS))
            for system, ((s, v), scores) in held.items()]
    ours = [scores for _, scores in held.values()]
    rows.append(("average", "", *(f"{mean(ours, m):.3f}" for m in METRICS),
                 *(f"{mean([drain[x] for x in held if x in drain], m):.3f}" if drain else "-" for m in METRICS)))
    return table(rows, header)


def memory_profile(lines: Sequence[str], total: int, checkpoints: int = 5) -> list[tuple[int, float, int]]:
    """Feed ``total`` distinct lines to one TemplateMiner; (lines, resident MB, clusters) at checkpoints."""
    process = psutil.Process()
    miner = TemplateMiner()
    marks, step, out = set(range(total // checkpoints, total + 1, total // checkpoints)), len(lines), []
    for index in range(1, total + 1):
        miner.add(f"{lines[index % step]} seq={index}")  # every line distinct: the caches churn
        if index in marks:
            out.append((index, process.memory_info().rss / 2**20, len(miner.templates())))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run every table, print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"plain run on {', '.join(QUICK_SYSTEMS)}, 3 runs")
    parser.add_argument("--repeat", type=int, default=None, help="runs per parser and system (default 7)")
    parser.add_argument("--memory-lines", type=int, default=None, help="lines for the memory table (5 M)")
    args = parser.parse_args(argv)
    repeat = args.repeat or (3 if args.quick else 7)
    parsers: dict[str, Parser] = {"ours": mine_templates}
    drain3 = drain3_parser()
    if drain3 is None:
        print("bench_patterns: drain3 not installed (pip install drain3); showing ours alone")
    else:
        parsers["drain3"] = drain3
    print(f"Template miner vs Drain3 (defaults), {repeat} runs each, median speed; python {sys.version.split()[0]}; "
          f"our global setting: similarity {SIMILARITY}, max_values {MAX_VALUES}")
    data_dir = Path(os.environ.get("LOGHUB_DIR", DEFAULT_DATA))
    harness_path = Path(os.environ.get("LOGHUB_EVAL", DEFAULT_HARNESS))
    sample: list[str] = []
    if not harness_path.is_file() or not data_dir.is_dir():
        print(f"\nbench_patterns: Loghub tables skipped, data ({data_dir}) or harness ({harness_path}) not found; "
              "set LOGHUB_DIR / LOGHUB_EVAL")
        harness = None
    else:
        harness = load_harness(harness_path)
        sample = _loghub_tables(harness, data_dir, parsers, repeat, args.quick)
    _corpus_table(harness, parsers, repeat)
    total = args.memory_lines or (500_000 if args.quick else 5_000_000)
    base = sample or [message for message, _ in crypto_error_corpus(3_000)]
    rows: list[tuple[str, ...]] = [(f"{n:,}", f"{rss:.0f}", f"{templates:,}")
                                   for n, rss, templates in memory_profile(base, total)]
    print(f"\nMemory: TemplateMiner.add over {total:,} distinct lines (Loghub lines + a unique seq=<n>)")
    print(table(rows, ("lines fed", "resident MB", "templates")))
    return 0


def _loghub_tables(harness: ModuleType, data_dir: Path, parsers: dict[str, Parser], repeat: int,
                   quick: bool) -> list[str]:
    """Print the plain and leave-one-system-out tables; return the messages (for the memory table)."""
    systems = [s for s in (QUICK_SYSTEMS if quick else SYSTEMS) if (data_dir / s).is_dir()]
    data = load(harness, data_dir, [s for s in SYSTEMS if (data_dir / s).is_dir()])
    plain = {name: {} for name in parsers}  # type: dict[str, dict[str, Scores]]
    for system in systems:
        for name, row in measure(harness, parsers, *data[system], repeat).items():
            plain[name][system] = row
    print("\n1. Loghub-2k, plain run (our one global setting)")
    print(plain_table(plain, systems))
    if "drain3" in plain:
        ratio = speed(list(plain["ours"].values())) / speed(list(plain["drain3"].values()))
        scope = "" if not quick else " (quick: the three systems where nearly every line is new, our worst case)"
        print(f"speed ours/drain3 over all lines: {ratio:.2f}x (goal >= 1){scope}")
    drain = plain.get("drain3", {})
    corpus = crypto_error_corpus(3_000)
    held, chosen = leave_one_out(harness, data, GRID, ([m for m, _ in corpus], [t for _, t in corpus]))
    for system in data:
        if system not in drain and "drain3" in parsers:
            drain[system] = score(harness, data[system][1], parsers["drain3"](data[system][0]))
    print(f"\n2. Leave-one-system-out over {len(data)} systems, grid {len(GRID)} settings "
          f"(similarity x max_values), chosen by mean GA on the other systems and our error corpus; "
          f"chosen on all: similarity {chosen[0]}, max_values {chosen[1]}")
    print(loso_table(held, drain))
    scores = [row for _, row in held.values()]
    print(f"goals: average GA {mean(scores, 'GA'):.3f} >= {GOAL_LOSO_GA} "
          f"{'met' if mean(scores, 'GA') >= GOAL_LOSO_GA else 'NOT met'}; lowest "
          f"{min(r['GA'] for r in scores):.3f} >= {GOAL_LOSO_FLOOR} "
          f"{'met' if min(r['GA'] for r in scores) >= GOAL_LOSO_FLOOR else 'NOT met'}")
    _extra_table(harness, parsers)
    return [line for lines, _ in data.values() for line in lines]


def _extra_table(harness: ModuleType, parsers: dict[str, Parser]) -> None:
    """Score systems never tuned on ($LOGHUB_EXTRA_DIR), with the shipped global setting."""
    extra = os.environ.get("LOGHUB_EXTRA_DIR")
    if not extra:
        return
    systems = sorted(p.name for p in Path(extra).iterdir() if p.is_dir() and p.name not in SYSTEMS)
    rows = {name: {} for name in parsers}  # type: dict[str, dict[str, Scores]]
    for system in systems:
        lines, gt = load(harness, Path(extra), [system])[system]
        for name, row in measure(harness, parsers, lines, gt, 1).items():
            rows[name][system] = row
    print(f"\n2b. Systems never tuned on ({extra}), global setting")
    print(plain_table(rows, systems))


def _corpus_table(harness: ModuleType | None, parsers: dict[str, Parser], repeat: int) -> None:
    """Print GA/FGA/PA and speed on the crypto-assistant error corpus."""
    pairs = crypto_error_corpus(3_000)
    messages, truth = [m for m, _ in pairs], [t for _, t in pairs]
    if harness is None:
        return
    rows = {name: {"corpus": row} for name, row in measure(harness, parsers, messages, truth, repeat).items()}
    print(f"\n3. Crypto-assistant error corpus ({len(messages):,} messages, {len(set(truth))} true templates)")
    print(plain_table(rows, ["corpus"]))
    ga = rows["ours"]["corpus"]["GA"]
    print(f"goal GA {GOAL_CORPUS_GA}: {'met' if ga >= GOAL_CORPUS_GA else 'NOT met'}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
