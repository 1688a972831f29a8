"""The monitor's YAML config as strict pydantic models; errors name the key path, the value and what is allowed."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from crypto_observability.log_monitor._redact import redact
from crypto_observability.log_monitor.errors import ConfigError
from crypto_observability.shared.durations import MAX_SECONDS
from crypto_observability.shared.durations import parse_duration as parse_seconds


def parse_duration(value: Any) -> Any:
    """Turn a number or a duration string ('90s', '1h30m': crypto_observability.shared.durations) into seconds; leave
    anything else for the validator."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return parse_seconds(value)
    return value


Duration = Annotated[float, BeforeValidator(parse_duration), Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


class RuleBase(_Model):
    """Keys every rule shares: identity, lifecycle timers and routing."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.:-]+$")
    for_: Duration = Field(0.0, alias="for")
    keep_firing_for: Duration = 0.0
    severity: Literal["info", "warning", "critical"] = "warning"
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    channels: list[str] | None = None
    repeat_interval: Duration | None = None
    cooldown: Duration | None = None
    group_by: list[str] | None = None


class ErrorRateRule(RuleBase):
    """Share of ERROR/CRITICAL records above `threshold` once `min_volume` records were seen."""

    type: Literal["error_rate"]
    service: str | None = None
    by: list[str] = ["service"]
    window: Duration = 300.0
    threshold: float = Field(0.05, gt=0, le=1)
    min_volume: int = Field(20, ge=1)
    levels: list[str] = ["ERROR", "CRITICAL"]


class PercentileRule(RuleBase):
    """Windowed percentile of a numeric field above `threshold`."""

    type: Literal["percentile"]
    service: str | None = None
    event: str | None = None
    by: list[str] = ["service"]
    field: str = "context.response_time_ms"
    percentile: float = Field(95.0, gt=0, le=100)
    threshold: float = Field(gt=0)
    window: Duration = 300.0
    min_count: int = Field(20, ge=1)


class MatchRule(RuleBase):
    """Records whose fields equal given values and/or match regexes, at least `min_count` in `window`."""

    type: Literal["match"]
    where: dict[str, str | int | float | bool | list[str | int | float | bool]] = {}
    regex: dict[str, str] = {}
    by: list[str] = ["service"]
    window: Duration = 60.0
    min_count: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _needs_condition(self) -> MatchRule:
        if not self.where and not self.regex:
            raise ValueError("a match rule needs `where` or `regex` (or both)")
        for key, pattern in self.regex.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"regex.{key}: {pattern!r} is not a valid regular expression ({exc})") from exc
        return self


class AbsenceRule(RuleBase):
    """No record from a service for `seconds`."""

    type: Literal["absence"]
    services: list[str] = Field(min_length=1)
    seconds: Duration = 300.0


class NewFingerprintRule(RuleBase):
    """An error.fingerprint never seen before; the alert holds for `hold` then resolves."""

    type: Literal["new_fingerprint"]
    hold: Duration = 600.0
    learn_for: Duration = 0.0
    max_known: int = Field(10_000, ge=10)


class HttpCheckRule(RuleBase):
    """An HTTP endpoint must answer `expected_status` within `timeout`."""

    type: Literal["http_check"]
    url: str = Field(pattern=r"^https?://")
    service: str
    interval: Duration = 30.0
    timeout: Duration = 5.0
    expected_status: int = Field(200, ge=100, le=599)
    failures: int = Field(1, ge=1)


class SystemRule(RuleBase):
    """A host or container metric above `threshold` (container-aware via cgroup files)."""

    type: Literal["system"]
    metric: Literal["cpu_percent", "memory_percent", "disk_percent", "disk_io_bytes_per_s", "net_bytes_per_s"]
    threshold: float = Field(gt=0)
    path: str = "/"
    interval: Duration = 15.0


class PredictRule(RuleBase):
    """Linear trend of disk or memory use reaching 100% within `horizon`."""

    type: Literal["predict_full"]
    metric: Literal["disk_percent", "memory_percent"]
    horizon: Duration = 4 * 3600.0
    lookback: Duration = 3600.0
    interval: Duration = 60.0
    min_samples: int = Field(10, ge=3)
    path: str = "/"


class BaselineRule(RuleBase):
    """Error rate of the last hour against the same hour of day on previous days."""

    type: Literal["error_baseline"]
    service: str | None = None
    by: list[str] = ["service"]
    min_days: int = Field(3, ge=1)
    history_days: int = Field(14, ge=1)
    factor: float = Field(3.0, gt=1)
    min_errors: int = Field(10, ge=1)
    levels: list[str] = ["ERROR", "CRITICAL"]


RuleConfig = Annotated[
    ErrorRateRule
    | PercentileRule
    | MatchRule
    | AbsenceRule
    | NewFingerprintRule
    | HttpCheckRule
    | SystemRule
    | PredictRule
    | BaselineRule,
    Field(discriminator="type"),
]
RULE_TYPES = [
    "error_rate",
    "percentile",
    "match",
    "absence",
    "new_fingerprint",
    "http_check",
    "system",
    "predict_full",
    "error_baseline",
]


class RateLimit(_Model):
    """At most `count` messages per `per` seconds; the overflow is folded into one digest."""

    count: int = Field(ge=1)
    per: Duration = 60.0


class ChannelBase(_Model):
    rate_limit: RateLimit | None = None
    max_attempts: int = Field(default=8, ge=1)


class WebhookChannel(ChannelBase):
    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://")
    timeout: Duration = 5.0
    headers: dict[str, str] = {}


class EmailChannel(ChannelBase):
    type: Literal["email"]
    host: str
    port: int = Field(587, ge=1, le=65535)
    starttls: bool = True
    username: str | None = None
    password_env: str | None = None
    sender: str = Field(alias="from")
    to: list[str] = Field(min_length=1)
    cafile: str | None = None
    timeout: Duration = 10.0


class TelegramChannel(ChannelBase):
    type: Literal["telegram"]
    base_url: str = "https://api.telegram.org"
    token_env: str = "MONITOR_TELEGRAM_TOKEN"
    chat_id: int | str
    timeout: Duration = 5.0


class AlertmanagerChannel(ChannelBase):
    """Alertmanager's API root (e.g. http://alertmanager:9093); alerts go to POST {url}/api/v2/alerts.

    A firing alert is sent with `endsAt` = now + `hold`: if log-monitor stops repeating it, Alertmanager
    resolves it then (keep repeat_interval below `hold`).
    """

    type: Literal["alertmanager"]
    url: str = Field(pattern=r"^https?://")
    timeout: Duration = 5.0
    headers: dict[str, str] = {}
    generator_url: str = ""
    hold: Duration = 86400.0


class ConsoleChannel(ChannelBase):
    type: Literal["console"]


ChannelConfig = Annotated[
    WebhookChannel | EmailChannel | TelegramChannel | AlertmanagerChannel | ConsoleChannel, Field(discriminator="type")
]


class Defaults(_Model):
    """Per-rule keys used when a rule leaves them out."""

    channels: list[str] = ["console"]
    repeat_interval: Duration = 4 * 3600.0
    cooldown: Duration = 0.0
    group_by: list[str] = ["alertname"]


class Flap(_Model):
    """An alert changing state `threshold` times within `window` is held open as flapping."""

    window: Duration = 600.0
    threshold: int = Field(default=4, ge=2)


class Inhibit(_Model):
    """While an alert matching `source` fires, alerts matching `target` with equal `equal` labels are muted."""

    source: dict[str, str | list[str]]
    target: dict[str, str | list[str]]
    equal: list[str] = ["service"]


class Metrics(_Model):
    """Serve Prometheus metrics on http://host:port/metrics while `run` is running."""

    host: str = "127.0.0.1"
    port: int = Field(9464, ge=0, le=65535)


class MonitorConfig(_Model):
    """The whole monitor configuration file."""

    state_db: str = "var/log-monitor.db"
    sources: list[str] = Field(min_length=1)
    start_at: Literal["beginning", "end"] = "end"
    poll_interval: Duration = 0.1
    batch_lines: int = Field(20_000, ge=1)
    batch_bytes: int = Field(256 << 20, ge=1024)
    max_line_bytes: int = Field(1 << 20, ge=256)
    max_skew: Duration = 300.0
    resolved_retention: Duration = 3600.0
    metrics: Metrics | None = None
    rotate_wait: Duration = 5.0
    defaults: Defaults = Defaults()
    flap: Flap = Flap()
    rules: list[RuleConfig] = []
    inhibit: list[Inhibit] = []
    channels: dict[str, ChannelConfig] = {"console": ConsoleChannel(type="console")}

    @model_validator(mode="after")
    def _cross_check(self) -> MonitorConfig:
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rule names must be unique; repeated: {', '.join(dupes)}")
        uses_defaults = "channels" in self.defaults.model_fields_set or any(not r.channels for r in self.rules)
        for ch in self.defaults.channels if uses_defaults else []:
            if ch not in self.channels:
                raise ValueError(
                    f"defaults.channels: {ch!r} is not a configured channel; "
                    f"allowed: {', '.join(sorted(self.channels))}"
                )
        for i, rule in enumerate(self.rules):
            for ch in rule.channels or []:
                if ch not in self.channels:
                    raise ValueError(
                        f"rules[{i}].channels: {ch!r} is not a configured channel; allowed: "
                        f"{', '.join(sorted(self.channels))}"
                    )
        return self


_TAGS = {*RULE_TYPES, "webhook", "email", "telegram", "console", "alertmanager"}
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}")


def _expand_env(text: str, environ: dict[str, str]) -> str:
    """Expand ${VAR} and ${VAR:-default} outside comment lines; a ${VAR} that is unset and has no default is an
    error."""
    missing: list[str] = []

    def sub(m: re.Match[str]) -> str:
        value = environ.get(m.group(1))
        if value is not None:
            return value
        if m.group(2) is None:
            missing.append(m.group(1))
            return ""
        return m.group(3)

    out = "".join(line if line.lstrip().startswith("#") else _ENV_REF.sub(sub, line)  # a comment stays a comment
                  for line in text.splitlines(keepends=True))
    if missing:
        names = ", ".join(dict.fromkeys(missing))
        raise ConfigError(
            f"environment variable(s) {names} not set; set them, or give a default as ${{NAME:-default}}",
            [f"${{{n}}}: not set and no default" for n in dict.fromkeys(missing)],
        )
    return out


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a mapping naming the same key twice (YAML would keep the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ConfigError(f"duplicate key {key!r} at line {line} (first at line {seen[key]}); keep one")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


_URL_KEY = re.compile(r"(url|headers(\.|$)|token|password|secret)", re.IGNORECASE)


def _shown(where: str, value: Any) -> str:
    """A rejected value as the error shows it: redacted, and a URL or header only up to its host."""
    if isinstance(value, str) and _URL_KEY.search(where):
        m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*://)(?:[^/?#@]*@)?([^/?#@]*)", value)  # user:password@ dropped
        return repr(m.group(1) + m.group(2) + "/…" if m else "…")
    return redact(repr(value))


def _where(loc: tuple[Any, ...]) -> str:
    """Render a pydantic error location as a key path, dropping union tags like `rules[2].error_rate`."""
    out = ""
    for i, part in enumerate(loc):
        if i == 2 and loc[0] in ("rules", "channels") and part in _TAGS:
            continue
        if isinstance(part, str) and ("[" in part or part.startswith("function-")):
            continue
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out or "(top level)"


def format_errors(exc: ValidationError) -> list[str]:
    """Turn pydantic errors into 'key.path: value X: what is allowed' lines."""
    lines = []
    for err in exc.errors():
        msg = redact(err["msg"].removeprefix("Value error, "))  # a validator may quote the value it refused
        where = _where(tuple(err["loc"]))
        if err["type"] == "union_tag_invalid":
            ctx = err.get("ctx", {})
            msg = f"type {ctx.get('tag')!r} is not known; allowed: {ctx.get('expected_tags')}"
        elif err["type"] == "union_tag_not_found":
            msg = "missing `type`"
        value = err.get("input")
        shown = "" if isinstance(value, dict | list) or err["type"] == "missing" else f" (got {_shown(where, value)})"
        lines.append(f"{where}: {msg}{shown}")
    return lines


def parse_config(data: Any, source: str = "<config>") -> MonitorConfig:
    """Validate an already-loaded YAML document."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping, got {type(data).__name__}")
    try:
        return MonitorConfig.model_validate(data)
    except ValidationError as exc:
        problems = format_errors(exc)
        raise ConfigError(f"{source}: invalid config:\n  " + "\n  ".join(problems), problems) from None


def load_config(path: str | Path, environ: dict[str, str] | None = None) -> MonitorConfig:
    """Read, expand ${ENV} references in, and validate a YAML config file."""
    env = dict(os.environ if environ is None else environ)
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config {str(p)!r}: {exc.strerror}") from None
    try:
        data = yaml.load(_expand_env(text, env), Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc}", exc.problems) from None
    except yaml.YAMLError as exc:  # its excerpt shows the line with ${VAR}s expanded: secrets masked
        raise ConfigError(redact(f"{p}: not valid YAML: {exc}")) from None
    return parse_config(data, str(p))


def config_hash(cfg: MonitorConfig) -> str:
    """The first 12 hex digits of the sha256 of the effective config (after ${ENV} expansion and defaults)."""
    canonical = json.dumps(cfg.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _writable_path(path: str) -> str | None:
    """Why `path` cannot be created or written, or None when it can (nothing is created)."""
    p = Path(path).absolute()
    if p.exists():
        if p.is_dir() or not os.access(p, os.W_OK | os.R_OK):
            return "exists but is not a writable file"
        with p.open("rb") as handle:
            head = handle.read(16)
        return None if head in (b"", b"SQLite format 3\x00") else "exists but is not an SQLite database"
    parent = p.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"{str(parent)!r} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"directory {str(parent)!r} is not writable"
    return None


def preflight(cfg: MonitorConfig, environ: Mapping[str, str]) -> None:
    """Check what `run` needs from the machine (secrets set, state writable) before anything is created."""
    problems = []
    if cfg.state_db != ":memory:":
        why = _writable_path(cfg.state_db)
        if why:
            problems.append(f"state_db: {cfg.state_db!r} {why}")
    for name, ch in cfg.channels.items():
        env_key = {"email": "password_env", "telegram": "token_env"}.get(ch.type)
        var = getattr(ch, env_key, None) if env_key else None
        if env_key == "password_env" and var is None and getattr(ch, "username", None):
            problems.append(f"channels.{name}.password_env: a username is set but no password_env names the password")
        if var is not None and not environ.get(var):
            problems.append(f"channels.{name}.{env_key}: environment variable {var} is not set (or empty)")
    if problems:
        raise ConfigError("config cannot run:\n  " + "\n  ".join(problems), problems)
