"""Fluent Bit config: structure, routing replayed on sample records, the Lua filter under LuaJIT, and the
classic config/fluent-bit.conf kept equal to the YAML."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto_observability.shared.redaction import Redactor
from tests.services.shared import redaction_families as corpus

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "7" * 9 + ":" + "AAH" + "x" * 32  # built here so no token-shaped literal sits in the repository
SECRET_SHAPES = re.compile(r"\d{5,}:[\w-]{30,}|sk-live|hunter2|deadbeefcafe")


def _record(level: str = "INFO", service: str = "market-data", **extra: Any) -> dict[str, Any]:
    return {"timestamp": "2025-01-15T10:30:00.000Z", "service": service, "module": "main", "level": level,
            "message": "OI aggregation completed", "context": {"symbol": "BTC-USDT"}, "environment": "production",
            **extra}


def test_every_service_file_is_tailed_with_offsets_rotate_wait_and_rotated_files_excluded(
        fluentbit_config: dict[str, Any], dh: Any) -> None:
    """One tail input per log writer: offsets DB on the volume, rotate_wait, *.gz and *.log.* excluded, JSON parser."""
    inputs = fluentbit_config["pipeline"]["inputs"]
    assert {i["tag"] for i in inputs} == {f"logs.{name}" for name in dh.LOG_WRITERS}
    for inp in inputs:
        assert inp["name"] == "tail"
        assert inp["db"].startswith("/fluent-bit/db/")
        assert int(inp["rotate_wait"]) >= 5
        assert set(inp["exclude_path"].split(",")) == {"/app/logs/*.gz", "/app/logs/*.log.*"}
        assert inp["parser"] == "app_json"
        assert inp["path"] == f"/app/logs/{inp['tag'].split('.', 1)[1]}.log*"


def test_the_json_parser_reads_the_services_timestamp() -> None:
    """parsers.conf defines app_json whose Time_Format parses the record format's timestamp."""
    text = (ROOT / "config/fluent-bit/parsers.conf").read_text()
    block = dict(re.findall(r"^\s+(\w+)\s+(.+?)\s*$", text.split("Name        app_json", 1)[1], re.M))
    assert block["Format"] == "json" and block["Time_Key"] == "timestamp" and block["Time_Keep"] == "On"
    python_format = block["Time_Format"].replace("%L", "%f")
    assert datetime.strptime("2025-01-15T10:30:00.123Z", python_format).microsecond == 123000


def test_info_goes_to_the_central_file_per_service_and_day(fluentbit_config: dict[str, Any], pipeline: Any) -> None:
    """An INFO record ends in /central/logs under logs.<service>.<day>, not in the error stream."""
    flb = pipeline(fluentbit_config)
    flb.emit("logs.market-data", _record())
    assert [t for t, _ in flb.received("file", "/central/logs")] == ["logs.market-data.2025-01-15"]
    assert flb.received("file", "/central/errors") == []


@pytest.mark.parametrize("level", ["ERROR", "CRITICAL", "error", "fatal"])
def test_errors_are_copied_to_their_own_stream(fluentbit_config: dict[str, Any], pipeline: Any, level: str) -> None:
    """ERROR and CRITICAL (any spelling) reach both the service's day file and errors.<service>.<day>."""
    flb = pipeline(fluentbit_config)
    flb.emit("logs.telegram-bot", _record(level, service="telegram-bot"))
    assert [t for t, _ in flb.received("file", "/central/logs")] == ["logs.telegram-bot.2025-01-15"]
    [(tag, record)] = flb.received("file", "/central/errors")
    assert tag == "errors.telegram-bot.2025-01-15"
    assert record["level"] in {"ERROR", "CRITICAL"}


def test_every_input_tag_reaches_a_central_file(fluentbit_config: dict[str, Any], pipeline: Any) -> None:
    """No input is a dead end: a record of every level from every input lands in a file output."""
    for inp in fluentbit_config["pipeline"]["inputs"]:
        for level in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            flb = pipeline(fluentbit_config)
            flb.emit(inp["tag"], _record(level, service=inp["tag"].split(".")[1]))
            assert flb.received("file"), (inp["tag"], level)


def test_a_line_that_is_not_json_still_reaches_the_central_file(fluentbit_config: dict[str, Any],
                                                                pipeline: Any) -> None:
    """A parse failure ({"log": ...}) is kept, marked unparsed, given service, timestamp and day from its time."""
    flb = pipeline(fluentbit_config)
    flb.emit("logs.market-data", {"log": f"Traceback: token {TOKEN}\n"}, ts=1736937000.25)
    [(tag, record)] = flb.received("file", "/central/logs")
    assert tag == "logs.market-data.2025-01-15"
    assert record["service"] == "market-data" and record["level"] == "WARNING"
    assert record["timestamp"] == "2025-01-15T10:30:00.250Z"
    assert record["context"] == {"unparsed": True}
    assert TOKEN not in record["message"]


def test_clickhouse_is_on_by_default_and_the_other_stores_switched_on_by_environment(
        fluentbit_config: dict[str, Any], pipeline: Any, dh: Any) -> None:
    """With the defaults every record reaches the files and ClickHouse (HTTP JSONAsString); Loki and OpenSearch
    get nothing until their *_MATCH is set."""
    defaults = dict(line.split("=", 1) for line in (ROOT / "config/fluent-bit/fluent-bit.env").read_text()
                    .splitlines() if line and not line.startswith("#"))
    off = pipeline(fluentbit_config, defaults)
    off.emit("logs.market-data", _record("ERROR"))
    assert {fluentbit_config["pipeline"]["outputs"][i]["name"] for i, _, _ in off.delivered} == {"file", "http"}
    assert len(off.received("http")) == 1  # the record once, not its errors.* copy
    on_env = {**defaults, "FLB_LOKI_MATCH": "logs.*", "FLB_OPENSEARCH_MATCH": "errors.*"}
    on = pipeline(fluentbit_config, on_env)
    on.emit("logs.market-data", _record("ERROR"))
    assert len(on.received("loki")) == len(on.received("http")) == len(on.received("opensearch")) == 1
    http = next(o for o in fluentbit_config["pipeline"]["outputs"] if o["name"] == "http")
    assert "FORMAT%20JSONAsString" in http["uri"] and http["format"] == "json_lines"


def test_each_tail_input_keeps_its_own_position_database(fluentbit_config: dict[str, Any]) -> None:
    """Two inputs sharing one offsets database contend for it; Fluent Bit's docs give each its own."""
    dbs = [i["db"] for i in fluentbit_config["pipeline"]["inputs"]]
    assert len(set(dbs)) == len(dbs)


def test_no_literal_secret_in_the_fluent_bit_config(fluentbit_config: dict[str, Any]) -> None:
    """Credentials and hosts of the optional outputs come from ${FLB_*} variables only."""
    for output in fluentbit_config["pipeline"]["outputs"]:
        for key, value in output.items():
            if re.search(r"passw|user|token|secret|apikey", key):
                assert re.fullmatch(r"\$\{FLB_\w+\}", str(value)), (output["name"], key, value)


def test_routing_never_loops_and_ends_in_three_part_tags(fluentbit_config: dict[str, Any], pipeline: Any) -> None:
    """Re-emitted records (which restart the pipeline) are not re-copied: each delivery is logs|errors.svc.day."""
    flb = pipeline(fluentbit_config)
    flb.emit("logs.market-data", _record("CRITICAL"))
    assert sorted(t for _, t, _ in flb.delivered) == ["errors.market-data.2025-01-15", "logs.market-data.2025-01-15"]


# --- the Lua filter under LuaJIT ----------------------------------------------------------------------

@pytest.mark.parametrize(("given_level", "expected"), [
    ("warn", "WARNING"), ("Warning", "WARNING"), ("err", "ERROR"), ("fatal", "CRITICAL"),
    ("critical", "CRITICAL"), ("debug", "DEBUG"), ("notice", "INFO"), ("bogus", "INFO"),
])
def test_lua_normalises_levels(lua_filter: Any, given_level: str, expected: str) -> None:
    """Levels come out as the record format's five names; unknown ones become INFO."""
    code, _, record = lua_filter.call("sanitize", "logs.market-data", 1.0, _record(given_level))
    assert (code, record["level"]) == (2, expected)


def test_lua_leaves_a_clean_record_alone(lua_filter: Any) -> None:
    """Return code 0 (unchanged) for a well-formed record without secrets: no copy, no cost."""
    code, ts, record = lua_filter.call("sanitize", "logs.market-data", 1736937000.5, _record())
    assert (code, ts, record) == (0, 1736937000.5, _record())


@pytest.mark.parametrize(("text", "expected"), [
    (f"POST https://api.telegram.org/bot{TOKEN}/getMe", "POST https://api.telegram.org/bot***/getMe"),
    (f"token {TOKEN} leaked", "token *** leaked"),
    ("Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig", "Authorization: Bearer ***"),
    ("auth header basic dXNlcjpwYXNz==", "auth header basic ***"),
    ("called with Bearer abc.def-ghi", "called with Bearer ***"),
    ("GET /api/v3/order?symbol=BTCUSDT&apiKey=sk-live-1&signature=deadbeefcafe",
     "GET /api/v3/order?symbol=BTCUSDT&apiKey=***&signature=***"),
    ("headers X-MBX-APIKEY: sk-live-2, other", "headers X-MBX-APIKEY: ***, other"),
    ("postgres://app:hunter2@db:5432/x", "postgres://***@db:5432/x"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
     "-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----"),
    ("at 10:30:00 user u_0123456789abcdef sent /price", "at 10:30:00 user u_0123456789abcdef sent /price"),
])
def test_lua_masks_secret_shapes_in_text(lua_filter: Any, text: str, expected: str) -> None:
    """Second line of defence: bot tokens, Bearer tokens, secret query parameters, headers, URL
    credentials and private keys become ***; times and hashed user ids are left alone."""
    _, _, record = lua_filter.call("sanitize", "logs.market-data", 1.0, _record(message=text))
    assert record["message"] == expected


def test_lua_masks_values_under_secret_keys_at_any_depth(lua_filter: Any) -> None:
    """api_key, password, X-MBX-APIKEY, bot_token and nested tables under secret keys become ***."""
    context = {"symbol": "BTC-USDT", "api_key": "k1", "request": {"headers": {"X-MBX-APIKEY": "k2",
               "Accept": "json"}, "params": {"password": "p", "limit": 5}}, "bot_token": 12345,
               "credentials": {"user": "a", "pass": "b"}, "response_time_ms": 12.5}
    code, _, record = lua_filter.call("sanitize", "logs.market-data", 1.0, _record(context=context))
    assert code == 2
    assert record["context"] == {"symbol": "BTC-USDT", "api_key": "***", "request": {"headers": {
        "X-MBX-APIKEY": "***", "Accept": "json"}, "params": {"password": "***", "limit": 5}}, "bot_token": "***",
        "credentials": "***", "response_time_ms": 12.5}


# Text that may sit right before a token: free ASCII, then glue that once hid it (digits and colons,
# "/bot", "=", quotes), so the search keeps trying "id 5:<token>" and its relatives on every run.
_TOKEN_GLUE = st.sampled_from(["", "5:", "id 5:", "12:34:", ":", "0:0:", "/bot", "bot", "token=", "'", "x"])
_ASCII = st.text(alphabet=st.characters(codec="ascii", exclude_categories=("Cc",)), max_size=30)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(prefix=_ASCII, glue=_TOKEN_GLUE, bot_id=st.integers(min_value=10_000, max_value=9_999_999_999),
       secret=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
                      min_size=35, max_size=40), suffix=st.sampled_from([" end", ":", "/getMe", "", ":5"]))
def test_lua_never_lets_a_bot_token_through(lua_filter: Any, prefix: str, glue: str, bot_id: int, secret: str,
                                            suffix: str) -> None:
    """Whatever text surrounds it (also digits and a colon right before it), a bot token does not survive."""
    token = f"{bot_id}:{secret}"
    _, _, record = lua_filter.call("sanitize", "logs.telegram-bot", 1.0,
                                   _record(message=f"{prefix}{glue}{token}{suffix}"))
    assert secret not in record["message"]


@pytest.mark.parametrize("glue", ["id 5:", "5:", "0:0:", "x 12:34:"])
def test_lua_masks_a_bot_token_after_digits_and_a_colon(lua_filter: Any, glue: str) -> None:
    """The case the property search found: "... id 5:<token>" leaked the whole token."""
    _, _, record = lua_filter.call("sanitize", "logs.telegram-bot", 1.0, _record(message=f"{glue}{TOKEN} end"))
    assert record["message"] == f"{glue}*** end"


def _key_cases() -> list[tuple[str, str]]:
    secret_keys = [(key, "Zq7-s3cret-value") for name in corpus.SECRET_KEY_NAMES for key in corpus.spellings(name)]
    assets = [(key, asset) for key in ("token", "base_token", "quoteToken", "access_token") for asset in corpus.ASSETS]
    ordinary = [("symbol", "BTC/USDT"), ("key", "ticker:BTC/USDT"), ("cache_key", "abc"), ("OK-ACCESS-TIMESTAMP", "1")]
    return secret_keys + corpus.METADATA + assets + ordinary


def test_lua_key_rules_agree_with_the_library(lua_filter: Any) -> None:
    """The Lua filter masks a context value exactly when crypto_observability.shared.redaction does (one rule set)."""
    library = Redactor(user_salt="agree")
    disagree = []
    for key, value in _key_cases():
        _, _, record = lua_filter.call("sanitize", "logs.market-data", 1.0, _record(context={key: value}))
        lua_masked = record["context"][key] != value
        if lua_masked != (library.redact_context({key: value})[key] != value):
            disagree.append((key, value, lua_masked))
    assert disagree == []


@pytest.mark.parametrize(("small", "large"), [(8_000, 32_000), (250_000, 1_000_000)], ids=["below-cut", "1MB"])
def test_lua_filter_costs_a_linear_budget_on_adversarial_text(lua_filter: Any, small: int, large: int) -> None:
    """Every Lua pattern reads its input once (word-start anchors, no retry per position), and a string
    longer than 64 kB is cut after redaction, so 1 MB of adversarial text costs what 64 kB costs."""
    def run(text: str) -> None:
        lua_filter.call("sanitize", "logs.market-data", 1.0, _record(message=text))

    over = [corpus.linear_budget_exceeded(run, family, small, large) for family in sorted(corpus.ADVERSARIAL_UNITS)]
    assert [line for line in over if line] == []


def test_lua_cuts_a_long_string_after_masking_it(lua_filter: Any) -> None:
    """A 1 MB message keeps its first 64 kB (a token near the cut still masked) and says how much went."""
    text = "x " * 32_750 + f"token {TOKEN} " + "y" * 1_000_000
    _, _, record = lua_filter.call("sanitize", "logs.market-data", 1.0, _record(message=text))
    redacted = "x " * 32_750 + "token *** " + "y" * 1_000_000
    head, marker = record["message"].rsplit("…", 1)
    assert (len(head), head) == (65_496, redacted[:65_496])
    assert marker == f"[truncated {len(redacted) - len(head)} chars]"


def test_secrets_never_reach_any_output(fluentbit_config: dict[str, Any], pipeline: Any) -> None:
    """Through the whole pipeline, with every optional output on, no output receives a secret."""
    env = {"FLB_LOKI_MATCH": "*", "FLB_CLICKHOUSE_MATCH": "*", "FLB_OPENSEARCH_MATCH": "*"}
    flb = pipeline(fluentbit_config, env)
    flb.emit("logs.telegram-bot", _record("ERROR", service="telegram-bot", message=f"send failed bot{TOKEN}",
                                          context={"api_key": "sk-live-3", "password": "hunter2"}))
    assert len(flb.delivered) == 8
    for _, _, record in flb.delivered:
        assert not SECRET_SHAPES.search(repr(record)), record


# --- the classic format --------------------------------------------------------------------------------

def _classic_sections(text: str) -> list[tuple[str, dict[str, str]]]:
    sections: list[tuple[str, dict[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            sections.append((line.strip("[]").upper(), {}))
        else:
            key, _, value = line.partition(" ")
            sections[-1][1][key.lower()] = value.strip()
    return sections


def _yaml_value(value: Any) -> str:
    return {True: "on", False: "off"}.get(value, str(value)) if isinstance(value, bool) else str(value)


def test_the_classic_conf_is_the_same_pipeline_as_the_yaml(fluentbit_config: dict[str, Any]) -> None:
    """config/fluent-bit.conf (the seed's file) has the same sections, keys and values, in order."""
    classic = _classic_sections((ROOT / "config/fluent-bit.conf").read_text())
    expected = [("SERVICE", fluentbit_config["service"])]
    for kind, name in (("inputs", "INPUT"), ("filters", "FILTER"), ("outputs", "OUTPUT")):
        expected += [(name, item) for item in fluentbit_config["pipeline"][kind]]
    normalised = [(name, {k.lower(): _yaml_value(v) for k, v in items.items()}) for name, items in expected]
    assert classic == normalised
