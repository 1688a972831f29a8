"""The lnav format for our record (config/lnav/), installed and queried with the lnav from Debian's packages."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import orjson
import pytest

FORMAT = Path(__file__).resolve().parents[3] / "config" / "lnav" / "crypto_assistant_log.json"
pytestmark = pytest.mark.skipif(shutil.which("lnav") is None,
                                reason="lnav is not installed (scripts/dev/install_system.sh installs it)")


def _lnav(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    return subprocess.run(["lnav", *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def _table(output: str) -> list[list[str]]:
    return [line.split() for line in output.strip().splitlines()[1:]]


def test_lnav_reads_our_records_with_levels_request_ids_and_context_fields(log_dir: Path, tmp_path: Path) -> None:
    """After the documented `lnav -i`, lnav parses every line of a rotated .gz file: level, opid, nested fields."""
    rotated = sorted(log_dir.glob("market-data.log.*.gz"))[0]
    records = [orjson.loads(line) for line in gzip.decompress(rotated.read_bytes()).splitlines()]
    plain = _lnav(tmp_path, "-n", "-c", ";SELECT count(*) FROM crypto_assistant_log", str(rotated))
    assert "no such table: crypto_assistant_log" in plain.stdout + plain.stderr  # unknown to lnav before
    installed = _lnav(tmp_path, "-i", str(FORMAT))
    assert installed.returncode == 0, installed.stderr
    levels = _lnav(tmp_path, "-n", "-c", ";SELECT log_level, count(*) FROM crypto_assistant_log GROUP BY 1",
                   str(rotated))
    assert dict((level.upper(), int(n)) for level, n in _table(levels.stdout)) == dict(
        Counter(r["level"] for r in records))
    calls = _lnav(tmp_path, "-n", "-c", ";SELECT log_opid, \"context/exchange\" FROM crypto_assistant_log "
                  "WHERE \"context/exchange\" IS NOT NULL AND log_opid IS NOT NULL LIMIT 5", str(rotated))
    expected = [[r["request_id"], r["context"]["exchange"]] for r in records
                if r.get("request_id") and r["context"].get("exchange")][:5]
    assert _table(calls.stdout) == expected
