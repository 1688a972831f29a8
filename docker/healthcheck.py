"""Container healthcheck, standard library only: `healthcheck http URL`, `healthcheck file PATH... [--max-age S]`
or `healthcheck heartbeat PATH --max-age S`.

Exit 0 when healthy, 1 when not (Docker's contract), with one line saying why. `$VARS` in the
URL or path are expanded from the environment, so an exec-form HEALTHCHECK can use `${PORT}`.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable


def check_http(url: str, timeout: float) -> str | None:
    """Return None when URL answers 2xx within timeout, else the reason."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return None if 200 <= resp.status < 300 else f"{url} answered {resp.status}"
    except urllib.error.HTTPError as exc:
        return f"{url} answered {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return f"{url} unreachable: {exc}"


def check_file(paths: list[str], max_age: float | None, environ: dict[str, str]) -> str | None:
    """Return None when one of PATHS exists (and the newest was written within max_age s), else the reason."""
    if environ.get("LOG_FILE", "true").strip().lower() in {"false", "0", "no", "off"}:
        return None  # file output is off: nothing to look at, the process being alive is all we know
    ages = []
    for path in paths:
        try:
            ages.append(time.time() - os.stat(path).st_mtime)
        except OSError:
            continue
    if not ages:
        return f"none of {', '.join(paths)} exists"
    if max_age is not None and min(ages) > max_age:
        return f"{', '.join(paths)} not written for {min(ages):.0f}s (limit {max_age:.0f}s)"
    return None


def check_heartbeat(path: str, max_age: float) -> str | None:
    """Return None when the process touched path within max_age s, else the reason (a hung process goes stale)."""
    try:
        age = time.time() - os.stat(path).st_mtime
    except OSError:
        return f"no heartbeat at {path}"
    return None if age <= max_age else f"heartbeat {path} is {age:.0f}s old (limit {max_age:.0f}s)"


def main(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> int:
    """Parse the arguments, run one check, return Docker's exit code."""
    env = dict(os.environ if environ is None else environ)
    parser = argparse.ArgumentParser(prog="healthcheck", description=__doc__)
    sub = parser.add_subparsers(dest="kind", required=True)
    http = sub.add_parser("http", help="GET URL must answer 2xx")
    http.add_argument("url")
    http.add_argument("--timeout", type=float, default=3.0)
    file = sub.add_parser("file", help="one PATH must exist (and be fresh with --max-age)")
    file.add_argument("paths", nargs="+", metavar="PATH")
    file.add_argument("--max-age", type=float, default=None)
    beat = sub.add_parser("heartbeat", help="PATH must have been touched within --max-age seconds")
    beat.add_argument("path")
    beat.add_argument("--max-age", type=float, required=True)
    args = parser.parse_args(argv)
    expand = _expander(env)
    if args.kind == "http":
        problem = check_http(expand(args.url), args.timeout)
    elif args.kind == "heartbeat":
        problem = check_heartbeat(expand(args.path), args.max_age)
    else:
        problem = check_file([expand(p) for p in args.paths], args.max_age, env)
    print(problem or "healthy")
    return 1 if problem else 0


_VAR = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)")


def _expander(env: dict[str, str]) -> Callable[[str], str]:
    """Expand $VAR, ${VAR} and ${VAR:-default} from env; unknown names become empty (or the default)."""
    def expand(text: str) -> str:
        return _VAR.sub(lambda m: env.get(m.group(1) or m.group(3), "") or (m.group(2) or ""), text)
    return expand


if __name__ == "__main__":
    sys.exit(main())
