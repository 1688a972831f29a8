"""`python -m tools.log_monitor` runs the CLI."""

from tools.log_monitor.cli import main

main()
