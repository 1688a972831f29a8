"""docker-compose files: valid against the compose-spec schema, and wired so every log reaches its readers."""

from __future__ import annotations

import fnmatch
import posixpath
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.logging.yml", "docker-logging.yml")
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def _validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", *map(str, paths)],
                          capture_output=True, text=True, timeout=60)


def test_every_compose_file_is_valid_against_the_compose_spec() -> None:
    """check-jsonschema (offline, bundled compose-spec schema) accepts all three files."""
    result = _validate(*(ROOT / name for name in COMPOSE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_bad_condition(tmp_path: Path) -> None:
    """The validator really runs: `condition: healthy` (not a compose value) fails."""
    bad = (ROOT / "docker-compose.yml").read_text().replace("condition: service_healthy", "condition: healthy", 1)
    (tmp_path / "compose.yml").write_text(bad)
    result = _validate(tmp_path / "compose.yml")
    assert result.returncode != 0
    assert "healthy" in result.stdout + result.stderr


def test_the_stack_has_the_four_services_and_the_simulators_under_a_profile(compose: dict[str, Any]) -> None:
    """market-data, telegram-bot, log-monitor, fluent-bit always; the simulators only with `simulated`."""
    services = compose["services"]
    always = {name for name, svc in services.items() if not svc.get("profiles")}
    simulated = {name for name, svc in services.items() if "simulated" in svc.get("profiles", [])}
    assert always == {"market-data", "telegram-bot", "log-monitor", "fluent-bit"}
    assert simulated == {"exchange-simulator", "telegram-simulator"}


def test_depends_on_targets_exist_and_wait_on_health_only_where_there_is_one(compose: dict[str, Any]) -> None:
    """Every dependency names a service; service_healthy only on services with a healthcheck;
    a dependency on a profiled service is optional (required: false) so the stack runs without it."""
    services = compose["services"]
    for name, svc in services.items():
        for target, dep in svc.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            assert dep["condition"] in CONDITIONS
            if dep["condition"] == "service_healthy":
                assert "healthcheck" in services[target], (name, target)
            if services[target].get("profiles"):
                assert dep.get("required") is False, f"{name} -> {target}: profiled, must be required: false"


def test_every_service_but_fluent_bit_has_a_healthcheck(compose: dict[str, Any]) -> None:
    """Healthchecks everywhere except Fluent Bit, whose distroless image has no shell (it serves /api/v1/health)."""
    missing = {name for name, svc in compose["services"].items() if "healthcheck" not in svc}
    assert missing == {"fluent-bit"}
    for name, svc in compose["services"].items():
        if "healthcheck" in svc:
            assert svc["healthcheck"]["test"][0] == "CMD", name
            assert {"interval", "timeout", "retries", "start_period"} <= set(svc["healthcheck"]), name


def test_named_volumes_are_declared_and_build_files_exist(compose: dict[str, Any]) -> None:
    """Every named volume a service mounts is declared; every bind source and Dockerfile exists."""
    declared = set(compose["volumes"])
    for name, svc in compose["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name}: bind source {source} missing"
            else:
                assert source in declared, f"{name}: volume {source} not declared"
        if "build" in svc:
            assert (ROOT / svc["build"]["context"] / svc["build"]["dockerfile"]).is_file(), name


def _mount(svc: dict[str, Any], target: str) -> tuple[str, bool] | None:
    """(source, read_only) of the volume mounted at target, or None."""
    for volume in svc.get("volumes", []):
        parts = volume.split(":")
        if parts[1] == target:
            return parts[0], parts[2:] == ["ro"]
    return None


def test_every_service_logs_where_fluent_bit_and_the_monitor_read(compose: dict[str, Any], dh: Any,
                                                                   fluentbit_config: dict[str, Any]) -> None:
    """The log writers put $LOG_DIR on the shared volume; Fluent Bit tails <service>.log there with tag
    logs.<service>; log-monitor mounts the same volume and its config/monitor.yml sources name each file."""
    services = compose["services"]
    writers = {name for name, svc in services.items() if "LOG_USER_SALT" in svc.get("environment", {})}
    assert writers == set(dh.LOG_WRITERS)
    tails = {inp["tag"]: inp for inp in fluentbit_config["pipeline"]["inputs"] if inp["name"] == "tail"}
    monitor_env = services["log-monitor"]["environment"]
    monitor_cfg = dh.load_yaml("config/monitor.yml")
    sources = {dh.expand_vars(s, {"LOG_DIR": monitor_env["LOG_DIR"]}) for s in monitor_cfg["sources"]}
    for name in writers:
        log_dir = services[name]["environment"]["LOG_DIR"]
        volume, read_only = _mount(services[name], log_dir) or ("", True)
        assert volume and not read_only, f"{name} must write {log_dir} on a volume"
        active = posixpath.join(log_dir, f"{name}.log")
        tail = tails.get(f"logs.{name}")
        assert tail, f"Fluent Bit has no tail input tagged logs.{name}"
        assert fnmatch.fnmatchcase(active, tail["path"]), (active, tail["path"])
        assert _mount(services["fluent-bit"], posixpath.dirname(tail["path"])) == (volume, True)
        assert _mount(services["log-monitor"], monitor_env["LOG_DIR"]) == (volume, True)
        assert posixpath.join(monitor_env["LOG_DIR"], f"{name}.log") in sources


def test_the_logging_override_rotates_docker_logs_and_maps_them_to_the_host(compose: dict[str, Any],
                                                                           dh: Any) -> None:
    """docker-compose.logging.yml covers every service through docker-logging.yml: json-file with
    max-size, max-file and compress; the log writers get LOG_* settings and /app/logs on the host; the override
    adds the central store (ClickHouse)."""
    override = dh.load_yaml("docker-compose.logging.yml")["services"]
    shared = dh.load_yaml("docker-logging.yml")["services"]
    assert set(override) == set(compose["services"]) | {"clickhouse"}
    for name, svc in override.items():
        assert svc["extends"] == {"file": "docker-logging.yml", "service": name}
        logging = shared[name]["logging"]
        assert logging["driver"] == "json-file"
        assert {"max-size", "max-file", "compress"} <= set(logging["options"]), name
        assert str(logging["options"]["compress"]) == "true"
    for name in dh.LOG_WRITERS:
        env = shared[name]["environment"]
        assert {"LOG_LEVEL", "LOG_DIR", "LOG_FILE", "LOG_FORMAT", "LOG_MAX_BYTES", "LOG_BACKUP_COUNT",
                "ENVIRONMENT", "MONITORING_ENABLED"} <= set(env), name
        assert override[name]["volumes"] == ["${LOG_DIR:-./logs}:/app/logs"]
    for name in ("log-monitor", "fluent-bit"):
        assert override[name]["volumes"] == ["${LOG_DIR:-./logs}:/app/logs:ro"]


SECRET_NAME = re.compile(r"TOKEN|PASSWORD|PASSWD|SECRET|SALT|API_?KEY", re.IGNORECASE)


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_no_secret_value_is_written_into_a_compose_file(name: str, dh: Any) -> None:
    """Every secret-looking variable is interpolated from the environment (${VAR...}), never literal."""
    data = dh.load_yaml(name)
    for service, svc in data.get("services", {}).items():
        for key, value in (svc.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{\w+(:?[-?][^}]*)?\}", str(value)), f"{name}: {service}.{key}={value!r}"


def test_required_secrets_stop_compose_with_a_message(compose: dict[str, Any]) -> None:
    """The bot token and the user-id salt are `${VAR:?message}`: compose refuses to start without them."""
    bot = compose["services"]["telegram-bot"]["environment"]
    assert bot["TELEGRAM_BOT_TOKEN"].startswith("${TELEGRAM_BOT_TOKEN:?")
    assert bot["LOG_USER_SALT"].startswith("${LOG_USER_SALT:?")
    assert "TELEGRAM_BOT_TOKEN" not in compose["services"]["market-data"]["environment"]


def test_fluent_bit_defaults_in_compose_match_its_env_file(compose: dict[str, Any], dh: Any) -> None:
    """docker-compose.yml and config/fluent-bit/fluent-bit.env (used for the dry run) agree on defaults."""
    env_file = dict(line.split("=", 1) for line in (ROOT / "config/fluent-bit/fluent-bit.env").read_text().splitlines()
                    if line and not line.startswith("#"))
    in_compose = {k: dh.expand_vars(str(v), {}) for k, v in compose["services"]["fluent-bit"]["environment"].items()}
    assert in_compose == env_file


DEPLOY_FILES = [*COMPOSE_FILES, ".dockerignore", "config/fluent-bit.yaml", "config/fluent-bit.conf",
                "config/logrotate.conf", "logs/README.md", "docs/deployment.md", "docs/architecture.md",
                "docs/integration_guide.md"]
SECRET_LITERALS = {
    "telegram bot token": re.compile(r"\b\d{8,10}:[A-Za-z0-9_-]{35}\b"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----\s*[A-Za-z0-9+/=]{20,}"),
    "assigned secret": re.compile(r"(?i)\b[\w-]*(?:password|passwd|secret|token|api_?key|salt)\b[ \t]*[:=][ \t]*"
                                  r"['\"]?(?!\$\{|\$\$|<|\*\*\*|(?-i:[A-Z_]+)\b)[A-Za-z0-9/+_.-]{12,}"),
}


def _deploy_files() -> list[Path]:
    paths = [ROOT / name for name in DEPLOY_FILES]
    paths += sorted((ROOT / "docker").glob("*")) + sorted((ROOT / "config" / "fluent-bit").glob("*"))
    paths += sorted((ROOT / "scripts").glob("*.sh"))
    return [p for p in paths if p.is_file()]


@pytest.mark.parametrize("path", _deploy_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_secret_literal_in_any_deployment_file(path: Path) -> None:
    """No token, key or assigned password is written into a deployment file: they come from the environment."""
    text = path.read_text()
    for kind, pattern in SECRET_LITERALS.items():
        found = pattern.search(text)
        assert found is None, f"{kind} in {path.relative_to(ROOT)}: {found.group(0)[:40] if found else ''}"


@pytest.mark.parametrize("text", [
    "TELEGRAM_BOT_TOKEN=" + "123456789:" + "A" * 35, "password: hunter2hunter2", "api_key = 'abc-def-ghi-jkl'",
    "LOG_USER_SALT=" + "ab" * 16,
])
def test_the_secret_scan_catches_planted_literals(text: str) -> None:
    """The scan above is not vacuous: each of these is flagged."""
    assert any(p.search(text) for p in SECRET_LITERALS.values()), text


def test_fluent_bit_gets_the_same_hardening_as_the_other_services(compose: dict[str, Any]) -> None:
    """Read-only root, tmpfs /tmp, no capability, no-new-privileges, restart policy; not root's group bypass."""
    services = compose["services"]
    hardening = {key: services["market-data"][key] for key in ("read_only", "tmpfs", "cap_drop", "security_opt",
                                                               "restart")}
    assert {key: services["fluent-bit"].get(key) for key in hardening} == hardening
    assert services["fluent-bit"]["user"] == "0:${APP_GID:-10001}"


def test_each_container_is_named_as_its_records_say(compose: dict[str, Any]) -> None:
    """container_name equals the DOCKER_CONTAINER the service writes into every record."""
    for name, svc in compose["services"].items():
        said = svc.get("environment", {}).get("DOCKER_CONTAINER") or svc.get("build", {}).get("args", {}).get(
            "DOCKER_CONTAINER")
        assert svc["container_name"] == (said or f"crypto-{name}"), name


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_interpolation_uses_only_forms_podman_compose_reads(name: str) -> None:
    """No `${VAR:-}` and no nested default: podman-compose 1.0.3 leaves both unexpanded in the value."""
    text = (ROOT / name).read_text()
    assert not re.findall(r"\$\{\w+:?-\}", text)
    assert not re.findall(r"\$\{\w+:?[-?][^}]*\$\{", text)


def test_setup_logging_writes_every_variable_compose_reads_without_a_default(tmp_path: Path, dh: Any) -> None:
    """The .env setup_logging.sh writes sets each `${VAR}` the compose files use bare, so none is blank by accident."""
    bare = {m for name in COMPOSE_FILES for m in re.findall(r"\$\{(\w+)\}", (ROOT / name).read_text())}
    env = {**dh.env_without("ENV_FILE"), "ENV_FILE": str(tmp_path / "env"), "LOG_DIR": str(tmp_path / "logs"),
           "STATE_DIR": str(tmp_path / "var"), "REPORT_DIR": str(tmp_path / "reports"), "SETUP_SKIP_VENV": "1"}
    subprocess.run(["bash", str(ROOT / "scripts" / "setup_logging.sh")], env=env, check=True, capture_output=True,
                   timeout=60)
    written = {line.split("=", 1)[0] for line in (tmp_path / "env").read_text().splitlines()
               if line and not line.startswith("#")}
    assert bare and bare <= written, bare - written
