"""`python -m services.telegram_simulator`: the process a demo starts and drives over HTTP."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from services.telegram_simulator.cli import positive_duration

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(("text", "seconds"), [("60s", 60), ("2m", 120), ("90", 90), ("500ms", 0.5), ("1.5h", 5400),
                                              ("1m30s", 90)])
def test_traffic_durations(text: str, seconds: float) -> None:
    """--traffic and --traffic-delay take the project's one duration grammar (1m30s included)."""
    assert positive_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "-1s", "10 minutes", "s", "30m1h"])
def test_bad_traffic_durations_are_refused_with_the_grammar(text: str) -> None:
    """A bad or zero duration is an argparse error naming the value and the grammar."""
    with pytest.raises(argparse.ArgumentTypeError, match=r"is not a duration.*1h30m"):
        positive_duration(text)


def test_process_serves_plays_traffic_and_exits() -> None:
    """The process prints a ready line with its URL and users, serves the API, plays traffic and exits 0."""
    command = [sys.executable, "-m", "services.telegram_simulator", "--port", "0", "--token", "42:cli-token",
               "--traffic", "1s", "--traffic-delay", "300ms", "--rate", "10", "--users", "6",
               "--exit-after-traffic", "--log-level", "WARNING"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            ready = json.loads(proc.stdout.readline())
            assert ready["event"] == "telegram_simulator_ready"
            assert [u["role"] for u in ready["users"]].count("stranger") == 1
            me = httpx.post(f"{ready['base_url']}42:cli-token/getMe", timeout=5).json()
            assert me["result"]["id"] == 42
            finished = json.loads(proc.stdout.readline())
            stopped = json.loads(proc.stdout.readline())
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    assert finished["event"] == "traffic_finished" and finished["sent"] > 0
    assert stopped == {"event": "telegram_simulator_stopped"}


def test_bad_token_is_a_clear_error() -> None:
    """A malformed --token exits 2 with a message saying what a token looks like."""
    result = subprocess.run(
        [sys.executable, "-m", "services.telegram_simulator", "--token", "nonsense"],
        cwd=ROOT, capture_output=True, text=True, timeout=20, check=False,
    )
    assert result.returncode == 2
    assert "must look like '<digits>:" in result.stderr


def test_sigterm_stops_cleanly() -> None:
    """SIGTERM (what a demo sends) stops the server, prints a stopped line and exits 0."""
    command = [sys.executable, "-m", "services.telegram_simulator", "--log-level", "WARNING"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            ready = json.loads(proc.stdout.readline())
            assert httpx.get(f"{ready['server_url']}/_admin/health", timeout=5).json()["ok"] is True
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
            assert json.loads(proc.stdout.readline()) == {"event": "telegram_simulator_stopped"}
        finally:
            if proc.poll() is None:
                proc.kill()
