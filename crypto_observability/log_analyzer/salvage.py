"""Last resort for a file DuckDB cannot read whole (a cut-off gzip stream, odd encodings, Docker and plain
lines mixed, Docker lines split at 16 KB).

Its readable records are copied, unwrapped from Docker (split lines joined) if need be, into a clean
NDJSON file.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import orjson

from crypto_observability.log_analyzer.malformed import classify, joined_lines
from crypto_observability.log_analyzer.sources import LogFile


def salvage(log_file: LogFile, workdir: Path) -> Path:
    """Copy the file's valid records into ``workdir`` and return the clean file's path."""
    name = hashlib.sha1(str(log_file.path).encode()).hexdigest()[:16]
    target = workdir / f"salvaged-{name}.ndjson"
    opener = gzip.open if log_file.compressed else open
    with open(target, "wb") as out:
        try:
            with opener(log_file.path, "rb") as handle:
                for _, raw, last in joined_lines(handle):
                    if not raw.strip() or classify(raw, last) is not None:
                        continue
                    obj = orjson.loads(raw)
                    if "timestamp" not in obj and isinstance(obj.get("log"), str):
                        raw = obj["log"].rstrip("\n").encode()
                    out.write(raw + b"\n")
        except FileNotFoundError:
            raise  # the file vanished: the loader reports it
        except (OSError, EOFError):
            pass  # keep what was readable; the bad tail is already counted by locate()
    return target
