"""The Docker deployment run for real: the images built, the stack up under podman-compose, read from the host.

`make test-containers` runs this directory (`make test` leaves it out: `-m "not containers"`). The module
fixture copies the checkout to a scratch project, runs `scripts/setup_logging.sh` there as a user would,
builds every image with `podman-compose build` from the cached local base (scripts/dev/container_base.sh),
brings up the plain stack with the `simulated` services and the logging override, and waits for every
healthcheck. Fluent Bit is left out: its image cannot be had without a registry (its config stays
structurally tested in tests/deploy). Figures (image sizes, build and start times) are printed at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from crypto_observability.log_monitor.testing import WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]
CONTAINERS_CONF = ROOT / "docker" / "podman" / "containers.conf"
COMPOSE = ("podman-compose", "-f", "docker-compose.yml", "-f", "docker-compose.logging.yml")
# Every service but fluent-bit, whose image cannot be had here. podman-compose 1.0.3 ignores `profiles`,
# so the `simulated` profile is named service by service.
SERVICES = ("exchange-simulator", "telegram-simulator", "market-data", "telegram-bot", "log-monitor")
CONTAINER = {service: f"crypto-{service}" for service in SERVICES}
IMAGES = {"exchange-simulator": "simulators", "market-data": "market-data", "telegram-bot": "telegram-bot",
          "log-monitor": "log-monitor"}  # one service per image; the telegram simulator shares "simulators"
LOG_WRITERS = ("market-data", "telegram-bot")
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
HEALTHY_WITHIN_S = 240.0
NETWORK_READY_WITHIN_S = 180.0
NETWORK_STALLED_AFTER_S = 60.0
AARDVARK_PID = Path("/run/containers/networks/aardvark-dns/aardvark.pid")  # rootful podman's DNS server
USERS = (5001, 5002, 5003)  # the simulated Telegram users allowed in .env

# Runs inside a container (python, standard library only): one HTTP call, the JSON answer on stdout.
_HTTP = """
import json, sys, urllib.error, urllib.request
method, url, body = sys.argv[1:4]
req = urllib.request.Request(url, method=method, data=body.encode() or None,
                             headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req, timeout=40) as resp:
        status, text = resp.status, resp.read().decode()
except urllib.error.HTTPError as exc:
    status, text = exc.code, exc.read().decode()
print(json.dumps({"status": status, "body": json.loads(text) if text.strip() else None}))
"""

# Runs in the bot's container: wait until its peers' names resolve and connect promptly, several times in a row
# (podman 4.3's aardvark-dns can leave a new container's lookups unanswered for a minute or two after start-up),
# then print the seconds waited; or print what the last attempt met and exit 1 at the deadline.
_NETWORK_READY = """
import socket, sys, time
peers, deadline, started = (("market-data", 8000), ("telegram-simulator", 8081)), float(sys.argv[1]), time.monotonic()
in_a_row, last = 0, ""
while in_a_row < 3:
    if time.monotonic() - started > deadline:
        print(last); sys.exit(1)
    try:
        for name, port in peers:
            began = time.monotonic()
            address = socket.getaddrinfo(name, port, proto=socket.IPPROTO_TCP)[0][4][0]
            socket.create_connection((address, port), timeout=1).close()
            if time.monotonic() - began > 1:
                raise TimeoutError(f"{name} took {time.monotonic() - began:.1f} s to look up and connect")
        in_a_row += 1
    except OSError as exc:
        in_a_row, last = 0, f"{name}: {exc!r}"
    time.sleep(0.5)
print(round(time.monotonic() - started, 1))
"""

pytestmark = pytest.mark.containers


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 1.0) -> Any:
    """Poll check until it returns something truthy; fail naming what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every line of a log file as a record; a line that is not one JSON object fails (a torn line)."""
    records = []
    for number, line in enumerate(path.read_bytes().splitlines(), 1):
        record = json.loads(line)
        assert isinstance(record, dict), f"{path.name}:{number} is not a JSON object"
        records.append(record)
    return records


@dataclass
class Stack:
    """The scratch project, the environment compose runs with, and ways to reach the containers."""

    project: Path
    env: dict[str, str]
    app_uid: int
    app_gid: int
    market_data_port: int
    hook: WebhookReceiver
    built_images: list[str] = field(default_factory=list)
    before: dict[str, set[str]] = field(default_factory=dict)  # podman's containers, volumes, networks, images

    @property
    def logs(self) -> Path:
        return self.project / "logs"

    def run(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run a command in the project with compose's environment."""
        result = subprocess.run(args, cwd=self.project, env=self.env, capture_output=True, text=True,
                                timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout[-3000:]}\n"
                                 f"{result.stderr[-3000:]}")
        return result

    def podman(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return self.run("podman", *args, check=check, timeout=timeout)

    def inspect(self, container: str, template: str) -> str:
        return self.podman("inspect", "--format", template, container).stdout.strip()

    def healthy(self, container: str) -> bool:
        """Run the container's own healthcheck now (podman schedules them with systemd timers, absent here)."""
        return self.podman("healthcheck", "run", container, check=False).returncode == 0

    def wait_healthy(self, containers: tuple[str, ...] | list[str], timeout: float = HEALTHY_WITHIN_S) -> None:
        pending = list(containers)

        def all_healthy() -> bool:
            pending[:] = [c for c in pending if not self.healthy(c)]
            return not pending

        wait_until(all_healthy, timeout, f"healthy {pending}", interval=2.0)

    def http(self, container: str, method: str, url: str, body: Any = None) -> dict[str, Any]:
        """One HTTP call made inside a container, over the compose network: {"status", "body"}."""
        payload = "" if body is None else json.dumps(body)
        out = self.podman("exec", container, "python", "-c", _HTTP, method, url, payload, timeout=60).stdout
        return dict(json.loads(out))

    def say(self, user_id: int, text: str) -> dict[str, Any]:
        """A simulated Telegram user sends text; return the bot's reply to them."""
        base = "http://127.0.0.1:8081/_admin"
        sim = CONTAINER["telegram-simulator"]
        before = len(self.http(sim, "GET", f"{base}/messages?chat_id={user_id}")["body"]["result"])
        user = {"id": user_id, "first_name": f"User{user_id}", "username": f"user{user_id}"}
        assert self.http(sim, "POST", f"{base}/send", {"user": user, "text": text})["status"] == 200
        self.http(sim, "GET", f"{base}/wait_for_reply?chat_id={user_id}&count={before + 1}&timeout=30")
        replies = self.http(sim, "GET", f"{base}/messages?chat_id={user_id}")["body"]["result"][before:]
        assert replies, f"no reply to {text!r} from the bot\n{self.diagnosis('telegram-bot', 'telegram-simulator')}"
        return dict(replies[0])

    def diagnosis(self, *services: str) -> str:
        """What a failed exchange leaves to read: each service's last records and its container's output."""
        parts = []
        for service in services:
            tail = [{k: r.get(k) for k in ("timestamp", "level", "event", "message", "request_id")}
                    for r in self.records(service)[-15:]]
            output = self.podman("logs", "--tail", "30", CONTAINER[service], check=False)
            parts.append(f"--- {service}.log, last records:\n" + "\n".join(map(json.dumps, tail))
                         + f"\n--- podman logs {CONTAINER[service]}:\n{output.stdout[-4000:]}{output.stderr[-4000:]}")
        state = ("{{.Name}} {{.State.Status}} restarts={{.RestartCount}} started={{.State.StartedAt}} "
                 "ip={{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}")
        states = [self.inspect(c, state) for c in CONTAINER.values()]
        probe = self.podman("exec", CONTAINER["telegram-bot"], "python", "-c", _NETWORK_READY, "10", check=False,
                            timeout=60)
        return "\n".join([*parts, "--- containers:", *states,
                           f"--- the bot's peers, checked now (seconds to reach them, or what failed):\n"
                           f"{probe.stdout}{probe.stderr}"])

    def wait_network_ready(self, figures: dict[str, Any]) -> None:
        """Wait until the bot looks up and reaches its peers promptly, reloading podman's DNS once if it stalls."""
        waited = self._peers_reached(NETWORK_STALLED_AFTER_S)
        if waited is None and AARDVARK_PID.exists():
            # aardvark-dns 1.4 (podman 4.3) can stop answering after the reload a container's start sends it;
            # another reload (what podman sends on every container start or stop) brings it back
            os.kill(int(AARDVARK_PID.read_text().split()[0]), signal.SIGHUP)
            figures["podman_dns_reloaded_by_the_test"] = True
            waited = self._peers_reached(NETWORK_READY_WITHIN_S)
        assert waited is not None, (f"the bot could not reach its peers by name (podman's DNS, aardvark-dns):\n"
                                    f"{self.diagnosis('telegram-bot')}")
        figures["seconds_until_the_bot_reaches_its_peers_by_name"] = waited

    def _peers_reached(self, timeout: float) -> float | None:
        """Seconds until the bot reached its peers by name several times in a row; None if not within timeout."""
        probe = self.podman("exec", CONTAINER["telegram-bot"], "python", "-c", _NETWORK_READY, str(timeout),
                            check=False, timeout=timeout + 60)
        return float(probe.stdout.split()[-1]) if probe.returncode == 0 else None

    def records(self, service: str) -> list[dict[str, Any]]:
        path = self.logs / f"{service}.log"
        return read_records(path) if path.exists() else []

    def wait_for(self, service: str, found: Callable[[dict[str, Any]], bool], timeout: float = 30.0
                 ) -> list[dict[str, Any]]:
        """Poll a service's log (written from inside its container) until some record matches."""
        return list(wait_until(lambda: [r for r in self.records(service) if found(r)], timeout,
                               f"a matching record in {service}.log", interval=0.5))

    def host_pid(self, container: str) -> int:
        """The container's main process as the host sees it (never 0: os.kill(0) would signal our own group)."""
        pid = int(self.inspect(container, "{{.State.Pid}}"))
        assert pid > 0, f"{container} is not running"
        return pid

    def down(self) -> None:
        """Containers with their anonymous volumes, the named volumes and network, then the images built."""
        for container in CONTAINER.values():  # podman-compose 1.0.3 `down` keeps anonymous volumes
            self.podman("rm", "--force", "--volumes", "--time", "10", container, check=False)
        self.run(*COMPOSE, "down", "-v", check=False, timeout=300)
        for network in self.project_resources("network"):  # and the network
            self.podman("network", "rm", "--force", network, check=False)
        if self.built_images:
            self.podman("rmi", "--force", *self.built_images, check=False)
            self.built_images.clear()

    def inventory(self) -> dict[str, set[str]]:
        """What podman holds: container, volume, network and image names."""
        listing = {"container": ("ps", "-a", "--format", "{{.Names}}"),
                   "volume": ("volume", "ls", "--format", "{{.Name}}"),
                   "network": ("network", "ls", "--format", "{{.Name}}"),
                   "image": ("images", "--format", "{{.Repository}}:{{.Tag}}")}
        return {kind: set(self.podman(*args).stdout.split()) for kind, args in listing.items()}

    def project_resources(self, kind: str) -> list[str]:
        """The volumes or networks compose made for this project (named <project>_<name>)."""
        listing = self.podman(kind, "ls", "--format", "{{.Name}}", check=False).stdout.split()
        return [name for name in listing if name.startswith(f"{self.project.name}_")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _scratch_project(parent: Path) -> Path:
    """A copy of the checkout (what a fresh clone holds), so the test never touches the user's .env or ./logs."""
    project = parent / "crypto-assistant"
    ignore = shutil.ignore_patterns(".git", ".venv", "logs", "var", "reports", "__pycache__", ".env", "*.egg-info",
                                    ".hypothesis", ".mypy_cache", ".ruff_cache", "node_modules")
    shutil.copytree(ROOT, project, ignore=ignore, symlinks=True)
    return project


def _monitor_config(project: Path, hook_port: int) -> None:
    """The demo's rules (the shipped rules' shapes with one-minute windows), alerting to a webhook on the host."""
    text = (project / "config" / "monitor.demo.yml").read_text()
    url = "${DEMO_WEBHOOK_URL:-http://127.0.0.1:9/alerts}"
    assert url in text
    (project / "config" / "monitor.yml").write_text(
        text.replace(url, f"http://host.containers.internal:{hook_port}/hook"))


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, figures: dict[str, Any]) -> Iterator[Stack]:
    """The stack up and healthy; everything it made removed afterwards."""
    assert shutil.which("podman") and shutil.which("podman-compose"), \
        "podman and podman-compose are missing: run scripts/dev/install_containers.sh (make test-containers does)"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOG_", "COMPOSE_", "DOCKER_"))}
    env["CONTAINERS_CONF"] = os.environ.get("CONTAINERS_CONF", str(CONTAINERS_CONF))
    base = subprocess.run(["bash", str(ROOT / "scripts/dev/container_base.sh")], env=env, capture_output=True,
                          text=True, check=True, timeout=900).stdout.strip().splitlines()[-1]
    project = _scratch_project(tmp_path_factory.mktemp("containers"))
    setup = subprocess.run(["bash", "scripts/setup_logging.sh", "--no-venv"], cwd=project, capture_output=True,
                           text=True, timeout=120, check=True,
                           env={**env, "LOG_DIR": str(project / "logs"), "STATE_DIR": str(project / "var"),
                                "REPORT_DIR": str(project / "reports")})
    assert "setting(s) added" in setup.stdout
    dotenv = dict(line.split("=", 1) for line in (project / ".env").read_text().splitlines()
                  if line and not line.startswith("#"))
    hook = WebhookReceiver(host="0.0.0.0")
    _monitor_config(project, hook.port)
    # what a user's .env would say (podman-compose 1.0.3 lets .env win over the shell's variables): the
    # commit of the checkout (the scratch copy has no .git) and a free port for market-data on the host
    git = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    port = _free_port()
    settings = (project / ".env").read_text().replace("GIT_COMMIT=unknown", f"GIT_COMMIT={git.stdout.strip()}")
    settings = settings.replace("ALLOWED_USER_IDS=\n", f"ALLOWED_USER_IDS={','.join(map(str, USERS))}\n")
    (project / ".env").write_text(settings + f"MARKET_DATA_PORT={port}\n")
    s = Stack(project, env, int(dotenv["APP_UID"]), int(dotenv["APP_GID"]), port, hook)
    s.before = s.inventory()
    try:
        _build(s, base, figures)
        started = time.monotonic()
        s.run(*COMPOSE, "up", "-d", *SERVICES, timeout=600)
        s.wait_healthy([CONTAINER[name] for name in SERVICES])
        figures["seconds_up_to_all_healthy"] = round(time.monotonic() - started, 1)
        s.wait_network_ready(figures)
        yield s
    finally:
        s.down()
        hook.close()


def _build(s: Stack, base: str, figures: dict[str, Any]) -> None:
    """Build each image with podman-compose from the compose files' own build sections."""
    build_args = ["--format", "docker", "--network", "host", "--layers=false"]  # docker format keeps HEALTHCHECK
    args = ["--build-arg", f"BASE_IMAGE={base}"]
    if HOST_CA.exists():  # a TLS-inspecting proxy on the way to PyPI: let pip trust what the host trusts
        build_args += ["--volume", f"{HOST_CA}:/run/host-ca.crt:ro"]
        args += ["--build-arg", "PIP_CERT=/run/host-ca.crt"]
    for service, image in IMAGES.items():
        tag = f"localhost/crypto-assistant/{image}:latest"
        s.podman("rmi", "--force", tag, check=False)  # an older build would be left dangling by this one
        started = time.monotonic()
        s.run(*COMPOSE, "--podman-build-args", " ".join(build_args), "build", *args, service, timeout=1800)
        assert s.podman("image", "exists", tag, check=False).returncode == 0, f"podman-compose built no {tag}"
        s.built_images.append(tag)
        figures.setdefault("build_seconds", {})[image] = round(time.monotonic() - started, 1)
        size = int(s.podman("image", "inspect", "--format", "{{.Size}}", tag).stdout)
        figures.setdefault("image_mb", {})[image] = round(size / 1e6)
    base_size = int(s.podman("image", "inspect", "--format", "{{.Size}}", base).stdout)
    figures.setdefault("image_mb", {})["(base) " + base] = round(base_size / 1e6)

def test_images_are_non_root_with_a_healthcheck_and_no_build_tools(stack: Stack) -> None:
    """Each image runs as the configured non-root user, carries a HEALTHCHECK, and ships no pip or compiler."""
    for service, image in IMAGES.items():
        tag = f"localhost/crypto-assistant/{image}:latest"
        assert stack.podman("image", "inspect", "--format", "{{.Config.User}}", tag).stdout.strip() == "app"
        healthcheck = stack.podman("image", "inspect", "--format", "{{json .Config.Healthcheck}}", tag).stdout
        assert "/usr/local/bin/healthcheck" in healthcheck, image
        container = CONTAINER[service]
        probe = "import shutil; print(shutil.which('pip'), shutil.which('gcc'), shutil.which('cc'))"
        assert stack.podman("exec", container, "python", "-c", probe).stdout.split() == ["None"] * 3


def test_every_service_runs_healthy_read_only_as_the_configured_uid(stack: Stack) -> None:
    """Every container is healthy, its root filesystem read-only, its process APP_UID:APP_GID, never root."""
    for service in SERVICES:
        container = CONTAINER[service]
        assert stack.healthy(container), container
        assert stack.inspect(container, "{{.HostConfig.ReadonlyRootfs}}") == "true", container
        ids = stack.podman("exec", container, "id", "-u").stdout.strip(), stack.podman(
            "exec", container, "id", "-g").stdout.strip()
        assert ids == (str(stack.app_uid), str(stack.app_gid)), container
        write = stack.podman("exec", container, "touch", "/opt/venv/x", check=False)
        assert write.returncode != 0 and "Read-only file system" in write.stderr


def test_a_command_flows_bot_to_market_data_to_the_exchange_simulator(stack: Stack) -> None:
    """/price through the Telegram simulator is answered; market-data served it by calling the exchange simulator."""
    exchange = CONTAINER["exchange-simulator"]
    state_url = "http://127.0.0.1:8089/_admin/state"
    calls_before = stack.http(exchange, "GET", state_url)["body"]
    reply = stack.say(USERS[0], "/price BTC")
    assert "BTC" in reply["text"] and any(ch.isdigit() for ch in reply["text"])
    calls_after = stack.http(exchange, "GET", state_url)["body"]
    assert calls_after != calls_before  # the simulator counted market-data's calls
    answered = stack.wait_for("telegram-bot", lambda r: r.get("event") == "market_data_response"
                              and r["context"]["endpoint"] == "price")
    request_id = answered[-1]["request_id"]
    served = stack.wait_for("market-data", lambda r: r.get("event") == "http_request"
                            and r.get("request_id") == request_id)
    assert served[-1]["context"]["path"] == "/price/{symbol}" and served[-1]["context"]["status_code"] == 200
    calls = stack.wait_for("market-data", lambda r: r.get("event") == "exchange_api_call"
                           and r.get("request_id") == request_id)
    assert {c["context"]["exchange"] for c in calls} == {"binanceusdm", "bybit", "okx"}


def test_records_land_in_the_bind_mounted_logs_as_app_uid_0640_in_0750(stack: Stack) -> None:
    """./logs on the host holds each service's file, owned by APP_UID:APP_GID, files 0640, directory 0750."""
    directory = stack.logs.stat()
    assert (directory.st_uid, directory.st_gid, stat.S_IMODE(directory.st_mode)) == (
        stack.app_uid, stack.app_gid, 0o750)
    for service in LOG_WRITERS:
        info = (stack.logs / f"{service}.log").stat()
        assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (stack.app_uid, stack.app_gid, 0o640)


def test_docker_container_in_every_record_is_the_container_name(stack: Stack) -> None:
    """`docker_container` names the container that wrote the record, as `podman ps` shows it."""
    for service in LOG_WRITERS:
        name = stack.inspect(CONTAINER[service], "{{.Name}}")
        assert {r.get("docker_container") for r in stack.records(service)} == {name}


def test_one_request_id_ties_the_bot_and_market_data_lines(stack: Stack) -> None:
    """A user's command has one request id across both services' files."""
    stack.say(USERS[1], "/volume ETH")
    answered = stack.wait_for("telegram-bot", lambda r: r.get("event") == "market_data_response"
                              and r["context"]["endpoint"] == "volume")
    request_id = answered[-1]["request_id"]
    assert request_id
    assert stack.wait_for("market-data", lambda r: r.get("request_id") == request_id)
    bot_events = {r.get("event") for r in stack.records("telegram-bot") if r.get("request_id") == request_id}
    assert {"market_data_response", "bot_command"} <= bot_events


def test_log_monitor_in_its_container_fires_and_resolves_an_alert(stack: Stack) -> None:
    """A bybit 429 storm: log-monitor, following the shared logs, fires exchange_rate_limited, then resolves it."""
    exchange, faults = CONTAINER["exchange-simulator"], "http://127.0.0.1:8089/_admin/faults"
    assert stack.http(exchange, "POST", faults, {"exchange": "bybit", "kind": "rate_limit"})["status"] == 201
    try:
        symbols = iter(["BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "BNB", "LTC"] * 4)

        def fired() -> bool:
            stack.http(CONTAINER["market-data"], "GET", f"http://127.0.0.1:8000/price/{next(symbols)}")
            return any(_is(p, "exchange_rate_limited", "firing") for p in stack.hook.payloads())

        wait_until(fired, 90, "exchange_rate_limited firing at the webhook", interval=0.5)
    finally:
        stack.http(exchange, "DELETE", faults)
    wait_until(lambda: any(_is(p, "exchange_rate_limited", "resolved") for p in stack.hook.payloads()), 120,
               "exchange_rate_limited resolved at the webhook", interval=2.0)


def _is(payload: dict[str, object], alertname: str, status: str) -> bool:
    """A webhook notification (Alertmanager's shape) about alertname in status."""
    alerts = payload.get("alerts")
    return isinstance(alerts, list) and any(
        a.get("labels", {}).get("alertname") == alertname and a.get("status") == status for a in alerts)


def test_log_analyzer_on_the_host_reads_what_the_containers_wrote(stack: Stack) -> None:
    """log-analyzer, run on the host against ./logs, scores both services from the containers' records."""
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "log-analyzer"), "health", "--format", "json",
                             "--no-cache", str(stack.logs)], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "NO_COLOR": "1"}, check=True)
    scored = {entry["service"] for entry in json.loads(result.stdout)["services"]}
    assert set(LOG_WRITERS) <= scored


def test_sigterm_stop_loses_no_line(stack: Stack) -> None:
    """`podman stop` (SIGTERM): every line written before it is whole, and the service logs its own shutdown."""
    container = CONTAINER["market-data"]
    for symbol in ("BTC", "ETH", "SOL"):
        stack.http(CONTAINER["telegram-bot"], "GET", f"http://market-data:8000/price/{symbol}")
    served = {r["request_id"] for r in stack.records("market-data") if r.get("event") == "http_request"}
    stack.podman("stop", "--time", "30", container, timeout=60)
    assert stack.inspect(container, "{{.State.ExitCode}}") == "0"
    after = stack.records("market-data")  # read_records fails on a torn line
    assert served <= {r.get("request_id") for r in after if r.get("event") == "http_request"}
    tail = [r["message"] for r in after[-3:]]  # the service's own stop line, then uvicorn's last two
    assert tail == ["market-data stopped", "Application shutdown complete.", "Finished server process [1]"], tail
    stack.podman("start", container)
    stack.wait_healthy([container])


def test_a_container_restarted_by_its_policy_resumes_appending_whole_lines(stack: Stack) -> None:
    """market-data killed (SIGKILL, as a crash): restart: unless-stopped brings it back, appending whole lines."""
    container = CONTAINER["market-data"]
    restarts = int(stack.inspect(container, "{{.RestartCount}}"))
    lines_before = len(stack.records("market-data"))
    os.kill(stack.host_pid(container), signal.SIGKILL)
    wait_until(lambda: int(stack.inspect(container, "{{.RestartCount}}")) > restarts, 60,
               "the restart policy to start market-data again")
    stack.wait_healthy([container])
    stack.http(CONTAINER["telegram-bot"], "GET", "http://market-data:8000/price/BTC")
    records = stack.wait_for("market-data", lambda r: r.get("event") == "http_request")
    assert len(stack.records("market-data")) > lines_before and records


def test_the_bot_healthcheck_fails_when_the_bot_hangs(stack: Stack) -> None:
    """A frozen bot (SIGSTOP) turns unhealthy within its heartbeat's max age, and healthy again once it runs."""
    container = CONTAINER["telegram-bot"]
    pid = stack.host_pid(container)
    os.kill(pid, signal.SIGSTOP)
    try:
        wait_until(lambda: not stack.healthy(container), 60, "the hung bot to turn unhealthy", interval=3.0)
    finally:
        os.kill(pid, signal.SIGCONT)
    stack.wait_healthy([container], timeout=60)


def test_a_missing_secret_stops_compose_with_the_promised_message(stack: Stack, tmp_path: Path) -> None:
    """Without LOG_USER_SALT in .env, compose refuses to start and says how to get one."""
    for name in ("docker-compose.yml", "docker-compose.logging.yml", "docker-logging.yml"):
        (tmp_path / name).write_text((stack.project / name).read_text())
    dotenv = [line for line in (stack.project / ".env").read_text().splitlines()
              if not line.startswith("LOG_USER_SALT=")]
    (tmp_path / ".env").write_text("\n".join(dotenv) + "\n")
    result = subprocess.run([*COMPOSE, "--dry-run", "up", "-d", "market-data"], cwd=tmp_path, env=stack.env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "set LOG_USER_SALT in .env (scripts/setup_logging.sh generates one)" in result.stderr


def test_teardown_leaves_only_the_cached_base(stack: Stack) -> None:
    """After the teardown no container, volume, network or image of the run is left; the cached base is."""
    stack.down()
    after = stack.inventory()
    for kind in ("container", "volume", "network"):
        assert after[kind] == stack.before[kind], (kind, after[kind] ^ stack.before[kind])
    assert not [i for i in after["image"] for built in IMAGES.values() if f"crypto-assistant/{built}:" in i]
    assert any("crypto-assistant/python:3.11" in image for image in after["image"])  # the cached base
