"""Run market-data under uvicorn with structured logs: `python -m services.market_data.main_with_logging`."""

from __future__ import annotations

import uvicorn

from crypto_observability.shared.logging_config import setup_service_logging, uvicorn_log_config

from .app import create_app
from .config import MarketDataSettings


def main() -> None:
    """Read the settings, set up logging, serve until SIGINT/SIGTERM."""
    settings = MarketDataSettings.from_env()
    setup_service_logging("market-data", "main")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_config=uvicorn_log_config("market-data"), access_log=False)


if __name__ == "__main__":
    main()
