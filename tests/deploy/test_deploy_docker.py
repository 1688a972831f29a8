"""Dockerfiles (slim base, non-root user owning the log directory, GIT_COMMIT / DOCKER_CONTAINER, a
healthcheck, only the needed extra) and docker/healthcheck.py, the stdlib probe they run."""

from __future__ import annotations

import http.server
import importlib.util
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILES = {  # file -> the pyproject extra it installs
    "market-data": "market", "telegram-bot": "bot", "log-monitor": "monitor", "simulators": "simulators",
}


def _instructions(name: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "docker" / f"{name}.Dockerfile").read_text())
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
            for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@pytest.mark.parametrize(("name", "extra"), DOCKERFILES.items())
def test_dockerfile_builds_from_base_image_and_runs_non_root_with_a_healthcheck(name: str, extra: str) -> None:
    """ARG BASE_IMAGE (python:3.11-slim by default) for both stages; only the extra, pinned by constraints.txt,
    goes into a venv the final stage copies; the last USER is not root and owns /app/logs; one HEALTHCHECK."""
    steps = _instructions(name)
    assert steps[0] == ("ARG", "BASE_IMAGE=python:3.11-slim")
    froms = [args for op, args in steps if op == "FROM"]
    assert froms == ["${BASE_IMAGE} AS build", "${BASE_IMAGE}"]
    final = steps[len(steps) - 1 - [op for op, _ in reversed(steps)].index("FROM"):]
    users = [args for op, args in final if op == "USER"]
    assert users and users[-1] not in {"root", "0", "0:0"}
    build_run = " ".join(args for op, args in steps[:len(steps) - len(final)] if op == "RUN")
    assert f'pip install --no-cache-dir --disable-pip-version-check -c constraints.txt ".[{extra}]"' in build_run
    assert "pip uninstall --yes --disable-pip-version-check pip setuptools" in build_run
    final_run = " ".join(args for op, args in final if op == "RUN")
    assert f"install -d -o {users[-1]} -g {users[-1]} -m 0750 /app/logs" in final_run
    assert "pip install" not in final_run and ("COPY", "--from=build /opt/venv /opt/venv") in final
    healthchecks = [args for op, args in steps if op == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and " CMD [" in healthchecks[0]
    ops = [op for op, _ in final]
    assert ops.index("USER") < ops.index("CMD")


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_refuses_a_root_app_uid(name: str) -> None:
    """APP_UID/APP_GID 0 stop the build with a message instead of `groupadd --gid 0` failing obscurely."""
    run = " ".join(args for op, args in _instructions(name) if op == "RUN")
    assert '[ "${APP_UID}" = 0 ] || [ "${APP_GID}" = 0 ]' in run and "must not be 0" in run
    assert 'groupadd -o --gid "${APP_GID}" app' in run


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_passes_git_commit_and_container_name_in(name: str) -> None:
    """GIT_COMMIT and DOCKER_CONTAINER are build args that become environment for the logging library."""
    steps = _instructions(name)
    args = " ".join(a for op, a in steps if op == "ARG")
    env = " ".join(a for op, a in steps if op == "ENV")
    for var in ("GIT_COMMIT", "DOCKER_CONTAINER"):
        assert var in args and f"{var}=${{{var}}}" in env, var
    assert "LOG_DIR=/app/logs" in env


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_copies_only_what_exists_and_no_secrets(name: str) -> None:
    """COPY sources exist; nothing secret-like (.env, keys) is copied or set."""
    for op, args in _instructions(name):
        if op == "COPY" and not args.startswith("--from="):  # --from: a path in the build stage
            for source in args.split()[:-1]:
                assert (ROOT / source).exists(), source
                assert ".env" not in source
        if op in {"ENV", "ARG"}:
            assert not re.search(r"(TOKEN|PASSWORD|SECRET|SALT)\w*=\S", args), args


def test_dockerignore_keeps_logs_and_secrets_out_of_the_build_context() -> None:
    """.env, logs, the virtualenv and git history never reach the Docker daemon."""
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", "logs", ".venv", ".git", "var"} <= ignored


# --- docker/healthcheck.py ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def healthcheck() -> Any:
    spec = importlib.util.spec_from_file_location("docker_healthcheck", ROOT / "docker" / "healthcheck.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    """A loopback HTTP server: /health answers 200, anything else 503."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/health" else 503)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_http_check_passes_on_2xx_and_fails_otherwise(healthcheck: Any, server: int,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 0 on 200, 1 on 503 and on a closed port; ${PORT} is expanded from the environment."""
    env = {"PORT": str(server)}
    assert healthcheck.main(["http", "http://127.0.0.1:${PORT}/health"], env) == 0
    assert healthcheck.main(["http", "http://127.0.0.1:${PORT}/ready"], env) == 1
    assert "answered 503" in capsys.readouterr().out
    assert healthcheck.main(["http", "http://127.0.0.1:1/health", "--timeout", "1"], env) == 1


def test_file_check_wants_one_fresh_file(healthcheck: Any, tmp_path: Path) -> None:
    """Healthy when one of the paths exists and (with --max-age) was written recently."""
    db, wal = tmp_path / "state.db", tmp_path / "state.db-wal"
    assert healthcheck.main(["file", str(db), str(wal)], {}) == 1
    db.write_text("x")
    old = time.time() - 600
    os.utime(db, (old, old))
    assert healthcheck.main(["file", str(db), str(wal)], {}) == 0
    assert healthcheck.main(["file", str(db), str(wal), "--max-age", "120"], {}) == 1
    wal.write_text("x")
    args = ["file", "${D}/state.db", "${D}/state.db-wal", "--max-age", "120"]
    assert healthcheck.main(args, {"D": str(tmp_path)}) == 0


def test_file_check_passes_when_file_output_is_off(healthcheck: Any, tmp_path: Path) -> None:
    """LOG_FILE=false: there is no file to look at, so the check does not fail the container."""
    assert healthcheck.main(["file", str(tmp_path / "none.log")], {"LOG_FILE": "false"}) == 0


def test_heartbeat_check_fails_once_the_process_stops_touching_it(healthcheck: Any, tmp_path: Path) -> None:
    """`heartbeat PATH --max-age S`: healthy while touched within S, unhealthy when stale or missing,
    whatever LOG_FILE says (a hung bot must not pass for alive)."""
    beat = tmp_path / "bot.heartbeat"
    args = ["heartbeat", "${D}/bot.heartbeat", "--max-age", "30"]
    assert healthcheck.main(args, {"D": str(tmp_path), "LOG_FILE": "false"}) == 1
    beat.touch()
    assert healthcheck.main(args, {"D": str(tmp_path)}) == 0
    old = time.time() - 31
    os.utime(beat, (old, old))
    assert healthcheck.main(args, {"D": str(tmp_path), "LOG_FILE": "false"}) == 1
