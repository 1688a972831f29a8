"""Fixtures for the deployment tests: repository paths, YAML loading, Fluent Bit's routing rules.

Fluent Bit cannot run here, so `FluentBitPipeline` replays the parts of its engine our config relies
on, as documented: `match` globs (`*` spans dots), `match_regex`, the Lua callback contract
cb(tag, ts, record) -> code, ts, record run under LuaJIT, and `rewrite_tag` (KEY REGEX NEW_TAG KEEP;
a re-emitted record enters the pipeline from the start).
"""

from __future__ import annotations

import copy
import fnmatch
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.logging.yml", "docker-logging.yml")
LOG_WRITERS = ("market-data", "telegram-bot")  # services that log through the library to $LOG_DIR/<service>.log


def load_yaml(relative: str) -> Any:
    """Parse a repository YAML file (merge keys `<<` resolved by PyYAML)."""
    return yaml.safe_load((ROOT / relative).read_text())


def expand_vars(text: str, environ: dict[str, str]) -> str:
    """Expand ${VAR}, ${VAR:-default} and ${VAR:?message} like compose does (nested defaults included)."""
    pattern = re.compile(r"\$\{(\w+)(?:(:?[-?])((?:[^${}]|\$\{[^}]*\})*))?\}")
    previous = None
    while previous != text:
        previous = text
        text = pattern.sub(lambda m: environ.get(m.group(1)) or expand_vars(m.group(3) or "", environ)
                           if m.group(2) in (":-", "-") else environ.get(m.group(1), ""), text)
    return text


class LuaFilter:
    """One Fluent Bit Lua script loaded into LuaJIT 2.1 (lupa); call() converts records both ways."""

    def __init__(self, script: Path) -> None:
        import lupa.luajit21 as lupa

        self._lupa = lupa
        self.runtime = lupa.LuaRuntime(unpack_returned_tuples=True)
        self.runtime.execute(script.read_text())

    def call(self, function: str, tag: str, ts: float, record: dict[str, Any]) -> tuple[int, float, dict[str, Any]]:
        """Run cb(tag, ts, record) and return (code, ts, record) as Python values."""
        cb = self.runtime.globals()[function]
        code, new_ts, new_record = cb(tag, ts, self.runtime.table_from(record, recursive=True))
        return int(code), new_ts, self.to_python(new_record)

    def to_python(self, value: Any) -> Any:
        if self._lupa.lua_type(value) == "table":
            return {k: self.to_python(v) for k, v in value.items()}
        return value


def tag_matches(section: dict[str, Any], tag: str, environ: dict[str, str]) -> bool:
    """Fluent Bit's routing test: `match` is a glob whose * spans dots; `match_regex` a regex search."""
    if "match_regex" in section:
        return re.search(str(section["match_regex"]), tag) is not None
    pattern = expand_vars(str(section.get("match", "")), environ)
    return bool(pattern) and fnmatch.fnmatchcase(tag, pattern)


def record_get(record: dict[str, Any], accessor: str) -> Any:
    """Resolve a record accessor: $key or $key['sub']['sub']."""
    match = re.fullmatch(r"\$(\w+)((?:\['[^']+'\])*)", accessor)
    assert match, f"unsupported record accessor {accessor!r}"
    value: Any = record.get(match.group(1))
    for sub in re.findall(r"\['([^']+)'\]", match.group(2)):
        value = value.get(sub) if isinstance(value, dict) else None
    return value


class FluentBitPipeline:
    """Replay config/fluent-bit.yaml's filters and outputs on records; collect what each output receives."""

    def __init__(self, config: dict[str, Any], environ: dict[str, str] | None = None) -> None:
        self.config = config
        self.environ = dict(environ or {})
        self.filters = config["pipeline"].get("filters", [])
        self.outputs = config["pipeline"]["outputs"]
        self.delivered: list[tuple[int, str, dict[str, Any]]] = []  # (output index, tag, record)
        self._lua: dict[str, LuaFilter] = {}

    def emit(self, tag: str, record: dict[str, Any], ts: float = 1736937000.0, depth: int = 0) -> None:
        """Send one record into the pipeline under `tag`, as an input would."""
        assert depth < 8, f"rewrite_tag loop: {tag}"
        record = copy.deepcopy(record)
        for section in self.filters:
            if not tag_matches(section, tag, self.environ):
                continue
            name = section["name"]
            if name == "lua":
                code, ts, new = self._lua_filter(section).call(section["call"], tag, ts, record)
                if code == -1:
                    return
                if code in (1, 2):
                    record = new
            elif name == "rewrite_tag":
                keep = self._rewrite(section, tag, record, ts, depth)
                if keep is False:
                    return
            elif name == "modify":
                for key in _as_list(section.get("remove")):
                    record.pop(key, None)
            else:
                raise AssertionError(f"filter {name} is not modelled by the test; add it to FluentBitPipeline")
        for index, output in enumerate(self.outputs):
            if tag_matches(output, tag, self.environ):
                self.delivered.append((index, tag, record))

    def received(self, output_name: str, path: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        """(tag, record) pairs an output received; `path` tells two file outputs apart."""
        return [(tag, rec) for index, tag, rec in self.delivered
                if self.outputs[index]["name"] == output_name
                and (path is None or self.outputs[index].get("path") == path)]

    def _lua_filter(self, section: dict[str, Any]) -> LuaFilter:
        script = str(section["script"])
        if script not in self._lua:
            self._lua[script] = LuaFilter(ROOT / "config" / Path(script).relative_to("/fluent-bit/etc"))
        return self._lua[script]

    def _rewrite(self, section: dict[str, Any], tag: str, record: dict[str, Any], ts: float, depth: int) -> bool:
        """Apply the first matching rule; return whether the original record is kept."""
        for rule in _as_list(section["rule"]):
            key, regex, new_tag, keep = str(rule).split()
            value = record_get(record, key)
            if not isinstance(value, str):
                continue
            found = re.search(regex, value)
            if not found:
                continue
            self.emit(self._new_tag(new_tag, tag, found, record), record, ts, depth + 1)
            return keep == "true"
        return True

    def _new_tag(self, template: str, tag: str, found: re.Match[str], record: dict[str, Any]) -> str:
        parts = tag.split(".")
        text = re.sub(r"\$TAG\[(\d+)\]", lambda m: parts[int(m.group(1))], template)
        text = text.replace("$TAG", tag)
        text = re.sub(r"\$(\d)", lambda m: found.group(int(m.group(1))) or "", text)
        text = re.sub(r"\$\w+(?:\['[^']+'\])*", lambda m: str(record_get(record, m.group(0))), text)
        return expand_vars(text, self.environ)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def env_without(*names: str) -> dict[str, str]:
    """os.environ minus some names, for subprocesses that must not inherit them."""
    return {k: v for k, v in os.environ.items() if k not in names}


@pytest.fixture(scope="session")
def fluentbit_config() -> dict[str, Any]:
    """config/fluent-bit.yaml as Fluent Bit reads it (scalars as written)."""
    return load_yaml("config/fluent-bit.yaml")


@pytest.fixture(scope="session")
def lua_filter() -> LuaFilter:
    """config/fluent-bit/filters.lua loaded once into LuaJIT."""
    return LuaFilter(ROOT / "config" / "fluent-bit" / "filters.lua")


@pytest.fixture
def pipeline(fluentbit_config: dict[str, Any]) -> type[FluentBitPipeline]:
    """The FluentBitPipeline class (construct it with the config and an environment)."""
    return FluentBitPipeline


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """docker-compose.yml, merge keys resolved."""
    return load_yaml("docker-compose.yml")


@pytest.fixture(scope="session")
def dh() -> Any:
    """This module: ROOT, load_yaml, expand_vars, LOG_WRITERS, tag_matches... for the test modules."""
    import sys

    return sys.modules[__name__]
