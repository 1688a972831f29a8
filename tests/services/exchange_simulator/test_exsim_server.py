"""The simulator runs in a thread for sync code and as `python -m services.exchange_simulator`."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from services.exchange_simulator import FakeClock, FaultError, ThreadedSimulator
from services.exchange_simulator.__main__ import parse_fault_option

ROOT = Path(__file__).resolve().parents[3]


def _get(url: str) -> dict:
    """GET a JSON document with the standard library."""
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def test_threaded_simulator_serves_sync_code():
    """ThreadedSimulator serves from its own thread; inject/clear work from the caller's thread."""
    clock = FakeClock(1_764_000_000)
    with ThreadedSimulator(clock=clock) as sim:
        url = f"{sim.base_url}/fapi.binance.com/fapi/v1/ticker/24hr?symbol=BTCUSDT"
        assert _get(url)["closeTime"] == 1_764_000_000_000
        sim.inject("binanceusdm", "server_error", status=503)
        with pytest.raises(urllib.error.HTTPError) as info:
            _get(url)
        info.value.close()
        assert info.value.code == 503
        assert sim.clear() == 1
        assert sim.state()["requests"]["binanceusdm"] == 2


def test_threaded_inject_rejects_bad_faults():
    """A bad fault raises FaultError in the caller's thread."""
    with ThreadedSimulator() as sim, pytest.raises(FaultError, match="unknown fault kind"):
        sim.inject("okx", "earthquake")


def test_command_line_serves_until_sigterm():
    """`python -m services.exchange_simulator --port 0` prints its url, applies --fault, exits 0 on SIGTERM."""
    cmd = [sys.executable, "-m", "services.exchange_simulator", "--port", "0", "--fault", "okx:latency:ms=5",
           "--log-level", "WARNING"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("exchange simulator listening on http://127.0.0.1:")
        state = _get(line.rsplit(" ", 1)[1] + "/_admin/state")
        assert [(f["exchange"], f["kind"], f["params"]) for f in state["faults"]] == [("okx", "latency", {"ms": 5.0})]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        proc.stdout.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("okx:html", {"exchange": "okx", "kind": "html"}),
        ("bybit:latency:ms=250", {"exchange": "bybit", "kind": "latency", "ms": 250.0}),
        ("*:429:retry_after=3", {"exchange": "*", "kind": "429", "retry_after": 3.0}),
    ],
)
def test_fault_option_parsing(text, expected):
    """--fault EXCHANGE:KIND[:name=value,...] becomes inject() arguments."""
    assert parse_fault_option(text) == expected


@pytest.mark.parametrize("text", ["okx", "okx:latency:ms=fast"])
def test_bad_fault_option_is_named(text):
    """A malformed --fault names the option value and the expected form."""
    with pytest.raises(argparse.ArgumentTypeError, match="--fault"):
        parse_fault_option(text)
