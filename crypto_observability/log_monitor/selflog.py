"""The monitor's own "what changed" marker: a `config_loaded` record in $LOG_DIR/log-monitor.log.

Written through the shared logging library, like the services' own start records, so the analyzer's
timelines show when the monitor's rules changed (`context.config_hash` tells configs apart). Only the file
is written (stdout belongs to the CLI), and the library is shut down right after: the monitor's other
logging (httpx's request lines name webhook URLs) never reaches a file.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from crypto_observability.log_monitor.config import MonitorConfig, config_hash


def announce_config(cfg: MonitorConfig) -> str:
    """Log `config_loaded` with the effective config's hash and return the hash; never raises."""
    digest = config_hash(cfg)
    try:
        from crypto_observability.shared.logging_config import shutdown_logging
        from crypto_observability.shared.settings import LogSettings
        from crypto_observability.shared.structured_logger import INFO, create_structured_logger

        settings = replace(LogSettings.from_env(), console=False, file=True)
        slog = create_structured_logger("log-monitor", "monitor", settings=settings)
        try:
            slog.log(INFO, "config loaded", {"component": "log-monitor", "config_hash": digest}, event="config_loaded")
        finally:
            shutdown_logging()
    except Exception as exc:  # the monitor runs on even when its own log cannot be written
        print(f"log-monitor: warning: config_loaded not logged: {type(exc).__name__}: {exc}", file=sys.stderr)
    return digest
