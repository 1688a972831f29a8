"""Turn a store URL into a ClickHouse client: a server over HTTP, or the same engine embedded (chDB).

    clickhouse://USER@HOST:8123/DB     HTTP (clickhouses:// for TLS); the password comes from CLICKHOUSE_PASSWORD
    chdb:///PATH?database=DB           the embedded engine keeping its data under PATH (one PATH per process)

A password written in the URL is refused: command lines are visible to every user of the machine and end up in
shell history and in logs. Every message naming a URL names it as ``safe_url`` renders it, passwords masked.

An embedded store holds every record in full: its directory is created 0750, and from the moment the engine starts
the process umask lets no group write and nothing through to others (the engine writes files for as long as the
process runs: on insert, in background merges). Only ``connect(..., create=True)`` (``clickhouse init``) creates
the directory; any other use of a missing one is an error saying to run init.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from crypto_observability.log_analyzer.errors_base import OptionError

PASSWORD_VARIABLE = "CLICKHOUSE_PASSWORD"
DEFAULT_DATABASE = "logs"
STORE_UMASK = 0o027  # what an embedded store's files may never grant: group write, anything to others
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SCHEMES = {"clickhouse": (False, 8123), "http": (False, 8123), "clickhouses": (True, 8443), "https": (True, 8443)}
_SECRET_KEY = re.compile(r"pass|pwd|secret|token|auth|key|credential", re.IGNORECASE)
_PARAMETER = re.compile(r"([?&;#])([^=&;#]*)=([^&;#]*)")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_opened: set[str] = set()  # the embedded paths this process's engine holds (its lock on PATH/status is its own)


def safe_url(url: str) -> str:
    """Return ``url`` fit to print: a password in its user part and any password-like parameter shown as ***.

    Works on any text, a URL too malformed to parse included.
    """
    scheme = _SCHEME.match(url)
    start = scheme.end() if scheme else 0
    rest = url[start:]
    authority_start = start + len(rest) - len(rest.lstrip("/"))
    authority_end = next((i for i in range(authority_start, len(url)) if url[i] in "/?#"), len(url))
    userinfo, at, _ = url[authority_start:authority_end].rpartition("@")
    if at and ":" in userinfo:
        user = userinfo.split(":", 1)[0]
        url = f"{url[:authority_start]}{user}:***@{url[authority_start + len(userinfo) + 1:]}"
    return _PARAMETER.sub(_mask_parameter, url)


def _mask_parameter(match: re.Match[str]) -> str:
    separator, key, value = match.groups()
    return f"{separator}{key}=***" if value and _SECRET_KEY.search(unquote(key)) else match.group(0)


@dataclass(frozen=True)
class StoreAddress:
    """Where the store is, without its password (safe to print: ``url`` is the URL as ``safe_url`` renders it)."""

    url: str
    database: str
    embedded_path: str | None = None
    host: str = ""
    port: int = 0
    username: str = "default"
    secure: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", safe_url(self.url))

    def __str__(self) -> str:
        return f"{self.url} (database {self.database})"


def parse_store_url(url: str) -> StoreAddress:
    """Parse a store URL; a malformed one, an unknown scheme, a password or a bad database name is an OptionError."""
    safe = safe_url(url)
    try:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        password, port = parts.password, parts.port
    except ValueError as exc:  # an unclosed [IPv6], a port that is not a number from 0 to 65535
        raise OptionError(f"store URL {safe!r} cannot be parsed: {exc}") from exc
    if password is not None or any(_SECRET_KEY.search(key) for key in query):
        raise OptionError(f"store URL {safe!r} carries a password: set {PASSWORD_VARIABLE} in the environment instead")
    database = (query.get("database") or [""])[0]
    if parts.scheme == "chdb":
        path = unquote(parts.path) if parts.netloc in ("", "localhost") else ""
        if not path.startswith("/"):
            raise OptionError(f"store URL {safe!r}: expected chdb:///absolute/path/to/store")
        return StoreAddress(url, _database(safe, database or DEFAULT_DATABASE), embedded_path=path)
    if parts.scheme not in _SCHEMES:
        raise OptionError(f"store URL {safe!r}: expected clickhouse://user@host:8123/db, clickhouses://..., "
                          f"http(s)://... or chdb:///path")
    if port == 0:
        raise OptionError(f"store URL {safe!r}: port 0 is no port (1 to 65535)")
    secure, default_port = _SCHEMES[parts.scheme]
    database = database or parts.path.strip("/") or DEFAULT_DATABASE
    return StoreAddress(url, _database(safe, database), host=parts.hostname or "localhost",
                        port=port or default_port, username=parts.username or "default", secure=secure)


def _database(safe: str, name: str) -> str:
    if not _NAME.match(name):
        raise OptionError(f"store URL {safe!r}: database {name!r} is not a plain identifier (letters, digits, _)")
    return name


def connect(address: StoreAddress, environ: Mapping[str, str] = os.environ, *, create: bool = False) -> Any:
    """Return a clickhouse-connect client for the address (the client API is the same for both engines).

    An embedded store's directory must exist unless ``create`` (then it is made 0750); it must not be in use by
    another process.
    """
    logging.getLogger("clickhouse_connect").addHandler(logging.NullHandler())  # its failure is our one Error line
    try:
        import clickhouse_connect
    except ImportError as exc:  # an optional extra: say which one
        raise OptionError("the ClickHouse store needs clickhouse-connect: pip install "
                          "'crypto-assistant-observability[clickhouse]' (or [chdb] for the embedded engine)") from exc
    if address.embedded_path is not None:
        return _connect_embedded(clickhouse_connect, address, create)
    try:
        return clickhouse_connect.get_client(host=address.host, port=address.port, username=address.username,
                                             password=environ.get(PASSWORD_VARIABLE, ""), secure=address.secure)
    except Exception as exc:  # the driver's errors are many; each becomes one clear line
        raise OptionError(f"cannot open the store {address}: {first_line(exc)}") from exc


def _connect_embedded(clickhouse_connect: Any, address: StoreAddress, create: bool) -> Any:
    path = address.embedded_path or ""
    key = os.path.realpath(path)
    if not os.path.lexists(path):
        if not create:
            raise OptionError(f"no store at {path}: run log-analyzer clickhouse init --url {address.url}")
        os.umask(os.umask(STORE_UMASK) | STORE_UMASK)
        try:
            os.makedirs(path, mode=0o750)
        except OSError as exc:
            raise OptionError(f"cannot create the store directory {path}: {exc.strerror}") from exc
    elif not os.path.isdir(path):
        raise OptionError(f"the store path {path} is not a directory: name a directory (or a new path) for the store")
    if key not in _opened and _locked_by_another_process(path):
        raise OptionError(f"the store at {path} is in use by another process (chDB opens a store from one process "
                          "at a time): wait for it to finish")
    os.umask(os.umask(STORE_UMASK) | STORE_UMASK)  # for good: the engine writes files as long as the process runs
    try:
        client = clickhouse_connect.get_client(interface="chdb", path=path)
    except Exception as exc:  # the driver's errors are many; each becomes one clear line
        raise OptionError(f"cannot open the store {address}: {first_line(exc)}") from exc
    _opened.add(key)
    return client


def _locked_by_another_process(path: str) -> bool:
    """Whether an engine holds the store's lock (ClickHouse flocks PATH/status while it runs)."""
    try:
        fd = os.open(os.path.join(path, "status"), os.O_RDONLY)
    except OSError:
        return False  # no status file: no engine runs there
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        return exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN)
    finally:
        os.close(fd)  # closing releases a lock taken here
    return False


def first_line(exc: BaseException) -> str:
    """Return the first line of an exception's message (the engine's carry stack traces after it)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
