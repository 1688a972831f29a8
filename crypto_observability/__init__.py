"""crypto-assistant observability: the logging library (``shared``), ``log_analyzer`` and ``log_monitor``."""
