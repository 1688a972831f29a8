"""Error classification: a category, a severity and a stable fingerprint for any exception.

Classification walks the exception's class hierarchy by name, so CCXT's, httpx's and
python-telegram-bot's trees are understood without importing them. The fingerprint joins
the type, the message with its variable parts masked, and the innermost in-app frame, so
ids, numbers, symbols and URLs never split a group and different errors never merge.
"""

from __future__ import annotations

import hashlib
import re
import sysconfig
import traceback
from dataclasses import dataclass
from types import TracebackType

CATEGORIES = (
    "rate_limit", "timeout", "network", "unavailable", "auth", "validation", "not_found",
    "exchange", "dependency", "resource", "cancelled", "internal", "unclassified",
)
SEVERITIES = ("low", "medium", "high", "critical")

# Checked from the most derived class outwards; the first name found decides.
_BY_NAME: dict[str, tuple[str, str]] = {
    # ccxt (ccxt.base.errors); in 4.5 RateLimitExceeded is not a DDoSProtection
    "RateLimitExceeded": ("rate_limit", "medium"), "DDoSProtection": ("rate_limit", "medium"),
    "RequestTimeout": ("timeout", "medium"), "OnMaintenance": ("unavailable", "high"),
    "ExchangeNotAvailable": ("unavailable", "high"), "InvalidNonce": ("auth", "medium"),
    "AuthenticationError": ("auth", "high"), "PermissionDenied": ("auth", "high"),
    "AccountSuspended": ("auth", "critical"), "BadSymbol": ("validation", "low"),
    "BadRequest": ("validation", "low"), "InsufficientFunds": ("exchange", "medium"),
    "InvalidOrder": ("exchange", "medium"), "OrderNotFound": ("not_found", "low"),
    "NotSupported": ("validation", "low"), "NullResponse": ("exchange", "medium"),
    "BadResponse": ("exchange", "medium"), "ExchangeError": ("exchange", "medium"),
    # python-telegram-bot (telegram.error)
    "RetryAfter": ("rate_limit", "low"), "TimedOut": ("timeout", "medium"),
    "InvalidToken": ("auth", "critical"), "Forbidden": ("auth", "medium"), "Conflict": ("dependency", "high"),
    # httpx
    "TimeoutException": ("timeout", "medium"), "ConnectError": ("network", "medium"),
    "TransportError": ("network", "medium"), "HTTPStatusError": ("dependency", "medium"),
    "ClientConnectorError": ("network", "medium"),
    # ccxt's and telegram's network roots come after their specific subclasses
    "NetworkError": ("network", "medium"),
    # pydantic / validation
    "ValidationError": ("validation", "low"),
    # standard library
    "CancelledError": ("cancelled", "low"), "TimeoutError": ("timeout", "medium"),
    "ConnectionError": ("network", "medium"), "MemoryError": ("resource", "critical"),
    "RecursionError": ("internal", "high"), "PermissionError": ("resource", "high"),
    "FileNotFoundError": ("not_found", "medium"), "OSError": ("resource", "high"),
    "UnicodeError": ("validation", "low"), "ValueError": ("validation", "low"),
    "LookupError": ("internal", "high"), "TypeError": ("internal", "high"),
    "AttributeError": ("internal", "high"), "ArithmeticError": ("internal", "high"),
    "AssertionError": ("internal", "high"), "NotImplementedError": ("internal", "medium"),
}

_STDLIB_PATHS = tuple(p for p in {sysconfig.get_paths().get("stdlib"), sysconfig.get_paths().get("purelib")} if p)
_MASKS = [
    (re.compile(r"https?://\S+|wss?://\S+"), "<url>"),
    (re.compile(r"'[^']*'|\"[^\"]*\""), "<str>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), "<uuid>"),
    (re.compile(r"\b[A-Z0-9]{2,10}[/-][A-Z0-9]{2,10}(?::[A-Z0-9]{2,10})?(?:-SWAP)?\b"), "<symbol>"),
    (re.compile(r"\b(?:0x)?[0-9a-fA-F]*\d[0-9a-fA-F]*\b"), "<num>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<num>"),
]


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """The record's `error` block."""

    type: str
    category: str
    severity: str
    fingerprint: str

    def as_dict(self) -> dict[str, str]:
        """Render in the record's key order."""
        return {"type": self.type, "category": self.category, "severity": self.severity,
                "fingerprint": self.fingerprint}


def classify(exc: BaseException) -> tuple[str, str]:
    """Return (category, severity) for an exception from the names in its class hierarchy."""
    for cls in type(exc).__mro__:
        found = _BY_NAME.get(cls.__name__)
        if found:
            if cls.__name__ == "HTTPStatusError":
                return _classify_status(exc)
            return found
    return "internal", "high"


def _classify_status(exc: BaseException) -> tuple[str, str]:
    status = getattr(getattr(exc, "response", None), "status_code", 0) or 0
    if status == 429:
        return "rate_limit", "medium"
    if status in (401, 403):
        return "auth", "high"
    if status == 404:
        return "not_found", "low"
    return ("dependency", "high") if status >= 500 else ("validation", "low")


def message_template(message: str) -> str:
    """Mask the variable parts of a message (urls, quoted strings, ids, numbers, symbols)."""
    for pattern, replacement in _MASKS:
        message = pattern.sub(replacement, message)
    return message[:300]


def top_in_app_frame(tb: TracebackType | None) -> str:
    """Name the innermost frame that is ours (not the standard library or site-packages)."""
    frames = traceback.extract_tb(tb) if tb is not None else []
    for frame in reversed(frames):
        if not frame.filename.startswith(_STDLIB_PATHS) and "site-packages" not in frame.filename:
            return f"{_module_of(frame.filename)}:{frame.name}"
    return f"{_module_of(frames[-1].filename)}:{frames[-1].name}" if frames else ""


def _module_of(filename: str) -> str:
    return filename.rsplit("/", 1)[-1].removesuffix(".py")


def fingerprint(type_name: str, message: str, frame: str = "") -> str:
    """A stable 16-hex id for 'the same error': type + message template + top in-app frame."""
    key = f"{type_name}|{message_template(message)}|{frame}"
    return hashlib.sha1(key.encode("utf-8", "replace")).hexdigest()[:16]


def error_info(exc: BaseException, category: str | None = None, severity: str | None = None) -> ErrorInfo:
    """Classify an exception, letting explicit category/severity win over derived ones."""
    derived_category, derived_severity = classify(exc)
    name = type(exc).__name__
    return ErrorInfo(
        type=name,
        category=category or derived_category,
        severity=severity or derived_severity,
        fingerprint=fingerprint(name, _safe_str(exc), top_in_app_frame(exc.__traceback__)),
    )


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return f"<unprintable {type(exc).__name__}>"
