"""``python -m tools.log_analyzer`` runs the same command as the ``log-analyzer`` script."""

from tools.log_analyzer.cli import main

main(prog_name="log-analyzer")
