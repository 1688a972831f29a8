"""The effective configuration's fingerprint, logged once at start: the analyzer's restart and config-change marker.

    log_config_loaded(slog, "market-data", settings)
    -> {"event": "config_loaded", "context": {"component": "market-data", "config_hash": "3f9c2ab0d1e4"}, ...}

The hash covers every setting a dataclass shows in its repr: fields declared ``repr=False`` (tokens,
secrets) are left out, so the fingerprint never depends on a secret.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from typing import Any

from crypto_observability.shared.structured_logger import StructuredLogger

CONFIG_LOADED = "config_loaded"


def effective_config(settings: Any) -> dict[str, Any]:
    """Return the shown settings of a dataclass (or a mapping) as plain data."""
    if dataclasses.is_dataclass(settings) and not isinstance(settings, type):
        return {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings) if f.repr}
    return dict(settings)


def config_hash(settings: Any) -> str:
    """Return the first 12 hex digits of the SHA-256 of the effective configuration, canonically encoded."""
    def plain(value: Any) -> Any:
        return sorted(value, key=str) if isinstance(value, set | frozenset) else str(value)

    text = json.dumps(effective_config(settings), sort_keys=True, default=plain, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def log_config_loaded(slog: StructuredLogger, component: str, settings: Any) -> str:
    """Log ``config_loaded`` at INFO with the component and its configuration's hash; return the hash."""
    digest = config_hash(settings)
    slog.log(logging.INFO, f"{component} configuration loaded ({digest})",
             {"component": component, "config_hash": digest}, event=CONFIG_LOADED)
    return digest
