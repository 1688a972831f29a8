"""Turn a store URL into a ClickHouse client: a server over HTTP, or the same engine embedded (chDB).

    clickhouse://USER@HOST:8123/DB     HTTP (clickhouses:// for TLS); the password comes from CLICKHOUSE_PASSWORD
    chdb:///PATH?database=DB           the embedded engine keeping its data under PATH (one PATH per process)

A password written in the URL is refused: command lines are visible to every user of the machine and end up in
shell history and in logs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from crypto_observability.log_analyzer.errors_base import OptionError

PASSWORD_VARIABLE = "CLICKHOUSE_PASSWORD"
DEFAULT_DATABASE = "logs"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SCHEMES = {"clickhouse": (False, 8123), "http": (False, 8123), "clickhouses": (True, 8443), "https": (True, 8443)}


@dataclass(frozen=True)
class StoreAddress:
    """Where the store is, without its password (safe to print)."""

    url: str
    database: str
    embedded_path: str | None = None
    host: str = ""
    port: int = 0
    username: str = "default"
    secure: bool = False

    def __str__(self) -> str:
        return f"{self.url} (database {self.database})"


def parse_store_url(url: str) -> StoreAddress:
    """Parse a store URL; an unknown scheme, a password in the URL or a bad database name is an OptionError."""
    parts = urlsplit(url)
    database = (parse_qs(parts.query).get("database") or [""])[0]
    if parts.scheme == "chdb":
        path = parts.path if parts.netloc in ("", "localhost") else None
        if not path:
            raise OptionError(f"store URL {url!r}: expected chdb:///absolute/path/to/store")
        return StoreAddress(url, _database(url, database or DEFAULT_DATABASE), embedded_path=path)
    if parts.scheme not in _SCHEMES:
        raise OptionError(f"store URL {url!r}: expected clickhouse://user@host:8123/db, clickhouses://..., "
                          f"http(s)://... or chdb:///path")
    if parts.password is not None:
        safe = url.replace(f":{parts.password}@", ":***@")
        raise OptionError(f"store URL {safe!r} carries a password: set {PASSWORD_VARIABLE} in the environment instead")
    secure, default_port = _SCHEMES[parts.scheme]
    database = database or parts.path.strip("/") or DEFAULT_DATABASE
    return StoreAddress(url, _database(url, database), host=parts.hostname or "localhost",
                        port=parts.port or default_port, username=parts.username or "default", secure=secure)


def _database(url: str, name: str) -> str:
    if not _NAME.match(name):
        raise OptionError(f"store URL {url!r}: database {name!r} is not a plain identifier (letters, digits, _)")
    return name


def connect(address: StoreAddress, environ: Mapping[str, str] = os.environ) -> Any:
    """Return a clickhouse-connect client for the address (the client API is the same for both engines)."""
    try:
        import clickhouse_connect
    except ImportError as exc:  # an optional extra: say which one
        raise OptionError("the ClickHouse store needs clickhouse-connect: pip install "
                          "'crypto-assistant-observability[clickhouse]' (or [chdb] for the embedded engine)") from exc
    try:
        if address.embedded_path is not None:
            return clickhouse_connect.get_client(dsn=f"chdb://{address.embedded_path}")
        return clickhouse_connect.get_client(host=address.host, port=address.port, username=address.username,
                                             password=environ.get(PASSWORD_VARIABLE, ""), secure=address.secure)
    except Exception as exc:  # the driver's errors are many; each becomes one clear line
        raise OptionError(f"cannot open the store {address}: {exc}") from exc
