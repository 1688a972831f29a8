"""Start the demo's processes in their own sessions, wait until each is ready, always stop them."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx


class StartupError(RuntimeError):
    """A process exited or did not become ready; carries the tail of its stderr."""


@dataclass
class Child:
    """One running process and the lines it printed on stdout."""

    name: str
    process: subprocess.Popen[str]
    stderr_path: Path
    lines: queue.Queue[str] = field(default_factory=queue.Queue)

    def wait_for_line(self, accept: Callable[[str], Any], timeout: float) -> Any:
        """Return accept(line) for the first stdout line it accepts (not None)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None and self.lines.empty():
                raise StartupError(f"{self.name} exited with {self.process.returncode}: {self.stderr_tail()}")
            try:
                found = accept(self.lines.get(timeout=0.2))
            except queue.Empty:
                continue
            if found is not None:
                return found
        raise StartupError(f"{self.name} printed nothing usable in {timeout:.0f} s: {self.stderr_tail()}")

    def stderr_tail(self, lines: int = 8) -> str:
        """The last lines the process wrote on stderr (tracebacks land there)."""
        try:
            return " | ".join(self.stderr_path.read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return "(no stderr)"


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))


class ProcessGroup:
    """Owns every child; stop_all() (also on exceptions and Ctrl-C) leaves no process behind."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.children: list[Child] = []

    def start(self, name: str, module: str, *args: str, env: dict[str, str] | None = None) -> Child:
        """Run `python -m module args` with the group's environment plus env."""
        stderr_path = self.workdir / f"{name}.stderr"
        fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)  # 0640 like every log file
        os.fchmod(fd, 0o640)
        stderr = open(fd, "w")  # noqa: SIM115 - closed below, once the child holds it
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args], env={**self.env, **(env or {})}, stdout=subprocess.PIPE,
            stderr=stderr, text=True, start_new_session=True, cwd=Path.cwd())
        stderr.close()
        child = Child(name, process, stderr_path)
        assert process.stdout is not None
        threading.Thread(target=_pump, args=(process.stdout, child.lines), daemon=True).start()
        self.children.append(child)
        return child

    def wait_http(self, child: Child, url: str, timeout: float = 30.0) -> None:
        """Poll url until it answers 200, or fail with the child's stderr."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if child.process.poll() is not None:
                raise StartupError(f"{child.name} exited with {child.process.returncode}: {child.stderr_tail()}")
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise StartupError(f"{child.name} not ready at {url} after {timeout:.0f} s: {child.stderr_tail()}")

    def stop(self, child: Child, timeout: float = 15.0) -> int | None:
        """SIGTERM, wait, then SIGKILL the whole session if it will not go."""
        if child.process.poll() is None:
            _signal_group(child.process, signal.SIGTERM)
            try:
                child.process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(child.process, signal.SIGKILL)
                child.process.wait(5)
        if child.process.stdout is not None:
            child.process.stdout.close()
        return child.process.returncode

    def stop_all(self) -> None:
        """Stop every child, newest first."""
        for child in reversed(self.children):
            self.stop(child)

    def __enter__(self) -> ProcessGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


def _signal_group(process: subprocess.Popen[str], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
