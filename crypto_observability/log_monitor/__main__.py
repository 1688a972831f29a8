"""`python -m crypto_observability.log_monitor` runs the CLI."""

from crypto_observability.log_monitor.cli import main

main()
