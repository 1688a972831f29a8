"""`make bench`: run every benchmark script in quick mode, one after another, and print each table."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time

import benchmarks


def main(argv: list[str] | None = None) -> int:
    """Run benchmarks.bench_* (all, or those named) and report any that failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="bench names to run, e.g. logging patterns (default: all)")
    parser.add_argument("--full", action="store_true", help="full sizes instead of --quick")
    args = parser.parse_args(argv)
    found = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))
    chosen = [n for n in found if not args.names or n.removeprefix("bench_") in args.names]
    failed = []
    for name in chosen:
        print(f"\n=== {name} ===", flush=True)
        started = time.monotonic()
        try:
            code = importlib.import_module(f"benchmarks.{name}").main([] if args.full else ["--quick"])
        except Exception as exc:  # one broken bench must not hide the others
            print(f"{name} failed: {exc!r}")
            code = 1
        if isinstance(code, int) and code:  # some mains return their figures instead of an exit code
            failed.append(name)
        print(f"({name}: {time.monotonic() - started:.0f} s)", flush=True)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
